"""Sign-in: password, then a second factor before any page; enrolment; backup codes; lockout."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.roles import Role
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory

from .conftest import sign_in
from .scenario import PASSWORD, current_code, staff

pytestmark = pytest.mark.django_db


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("portal:login"), {"username": username, "password": password})


def test_the_root_shows_the_login_page_to_anonymous_visitors() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_password_alone_leads_to_the_code_page_not_to_any_portal_page() -> None:
    moderator = staff(Role.MODERATOR, "m_two")
    client = Client()
    response = _password_step(client, "m_two")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:otp_verify"))
    for path in ("/", reverse("portal:cases"), reverse("admin:index")):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith(reverse("portal:otp_verify")), path
    assert client.session["_auth_user_id"] == str(moderator.pk)


def test_a_valid_totp_code_opens_the_dashboard_and_the_sign_in_is_audited() -> None:
    user = staff(Role.MODERATOR, "m_code")
    client = Client()
    _password_step(client, "m_code")
    response = client.post(reverse("portal:otp_verify"), {"token": current_code(user)})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    entry = AuditEntry.objects.filter(action="accounts.staff.signed_in").latest("seq")
    assert entry.actor_id == str(user.pk)


def test_a_wrong_code_is_refused_inline() -> None:
    staff(Role.MODERATOR, "m_wrong")
    client = Client()
    _password_step(client, "m_wrong")
    response = client.post(reverse("portal:otp_verify"), {"token": "000000"})
    assert response.status_code == 400
    assert b"did not match" in response.content
    assert client.get("/").status_code == 302


def test_a_backup_code_works_once() -> None:
    user = staff(Role.AUDITOR, "a_backup")
    code = twofactor.unused_backup_codes(user)[0]
    first = Client()
    _password_step(first, "a_backup")
    assert first.post(reverse("portal:otp_verify"), {"token": code}).status_code == 302
    assert not StaticToken.objects.filter(token=code).exists()
    second = Client()
    _password_step(second, "a_backup")
    assert second.post(reverse("portal:otp_verify"), {"token": code}).status_code == 400


def test_staff_without_a_device_are_sent_to_enrolment_and_confirm_it_with_a_code(
    settings: object,
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined] - no wait after the wrong try
    user = staff(Role.TRIAGE, "t_new", enrol=False)
    client = Client()
    response = _password_step(client, "t_new")
    assert response["Location"].startswith(reverse("portal:otp_setup"))
    page = client.get(reverse("portal:otp_setup"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"otpauth://totp/" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("portal:otp_setup"), {"token": "123"})
    assert wrong.status_code == 400
    done = client.post(reverse("portal:otp_setup"), {"token": current_code_of(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == settings.PORTAL_BACKUP_CODES
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(
        action="accounts.two_factor.enrolled", target_id=str(user.pk)
    ).exists()


def current_code_of(device: TOTPDevice) -> str:
    from django_otp.oath import TOTP

    return str(TOTP(device.bin_key, device.step, device.t0, device.digits).token()).zfill(6)


def test_app_accounts_cannot_sign_in_to_the_portal() -> None:
    person = AppUserFactory(username="app_person", age=30)
    person.set_password(PASSWORD)
    person.save(update_fields=["password"])
    client = Client()
    response = _password_step(client, "app_person")
    assert response.status_code == 200
    assert b"This portal is for staff" in response.content
    assert "_auth_user_id" not in client.session


def test_a_signed_in_app_account_gets_403_on_every_portal_page() -> None:
    person = AppUserFactory(username="app_forced", age=30)
    client = Client()
    client.force_login(person)
    for name in ("portal:home", "portal:cases", "portal:audit_log", "portal:users"):
        assert client.get(reverse(name)).status_code == 403, name


def test_repeated_wrong_passwords_lock_the_username_out_even_with_the_right_one() -> None:
    staff(Role.MODERATOR, "m_locked")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, "m_locked", "not the password at all")
    response = _password_step(client, "m_locked")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_issuing_new_backup_codes_invalidates_the_old_ones_and_is_audited() -> None:
    user = staff(Role.MODERATOR, "m_codes")
    old = set(twofactor.unused_backup_codes(user))
    client = sign_in(Client(), user)
    response = client.post(reverse("portal:security"))
    assert response.status_code == 200
    new = set(response.context["codes"])
    assert new
    assert not (new & old)
    assert set(twofactor.unused_backup_codes(user)) == new
    assert AuditEntry.objects.filter(action="accounts.two_factor.backup_codes_issued").exists()


def test_logging_out_needs_a_post_and_ends_the_session() -> None:
    user = staff(Role.MODERATOR, "m_out")
    client = sign_in(Client(), user)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:cases")).status_code == 302


def test_after_a_wrong_code_the_next_try_waits_even_with_the_right_code() -> None:
    user = staff(Role.MODERATOR, "m_throttle")
    client = Client()
    _password_step(client, "m_throttle")
    assert client.post(reverse("portal:otp_verify"), {"token": "111111"}).status_code == 400
    response = client.post(reverse("portal:otp_verify"), {"token": current_code(user)})
    assert response.status_code == 400
    assert b"wait a few seconds" in response.content
