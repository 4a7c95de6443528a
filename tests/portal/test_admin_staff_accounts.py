"""The Administrator deactivates, reactivates and re-keys staff in the admin, through the managers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from safety_portal.core.audit.models import AuditEntry

from .conftest import sign_in
from .scenario import PASSWORD, Day

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-kettle-harbour-91"


def _latest(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("seq")


def test_the_staff_change_page_links_to_deactivation_and_password_pages(day: Day, as_role) -> None:
    target = day.staff[Role.TRIAGE]
    page = as_role(Role.ADMINISTRATOR).get(reverse("admin:accounts_user_change", args=[target.pk]))
    assert reverse("admin:accounts_user_set_active", args=[target.pk]).encode() in page.content
    assert reverse("admin:accounts_user_set_password", args=[target.pk]).encode() in page.content


def test_the_change_form_cannot_save_is_active_or_a_password(day: Day, as_role) -> None:
    target = day.staff[Role.TRIAGE]
    as_role(Role.ADMINISTRATOR).post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {"roles": ["Triage"], "reason": "r", "is_active": "", "password": "x"},
    )
    fresh = User.objects.get(pk=target.pk)
    assert fresh.is_active
    assert fresh.check_password(PASSWORD)


def test_an_administrator_deactivates_staff_who_then_cannot_use_the_portal(
    day: Day, as_role
) -> None:
    target = day.staff[Role.MODERATOR]
    their_session = sign_in(Client(), target)
    assert their_session.get(reverse("portal:cases")).status_code == 200
    url = reverse("admin:accounts_user_set_active", args=[target.pk])
    admin = as_role(Role.ADMINISTRATOR)
    assert admin.post(url, {"active": "0", "reason": ""}).status_code == 200  # reason required
    assert User.objects.get(pk=target.pk).is_active
    response = admin.post(url, {"active": "0", "reason": "left the team, HR-12"})
    assert response.status_code == 302
    assert not User.objects.get(pk=target.pk).is_active
    entry = _latest("accounts.staff.deactivated")
    assert (entry.target_id, entry.reason) == (str(target.pk), "left the team, HR-12")
    assert their_session.get(reverse("portal:cases")).status_code == 302
    admin.post(url, {"active": "1", "reason": "back from leave"})
    assert User.objects.get(pk=target.pk).is_active
    assert _latest("accounts.staff.reactivated").reason == "back from leave"


def test_an_administrator_cannot_deactivate_themselves_in_the_admin(day: Day, as_role) -> None:
    me = day.staff[Role.ADMINISTRATOR]
    response = as_role(Role.ADMINISTRATOR).post(
        reverse("admin:accounts_user_set_active", args=[me.pk]), {"active": "0", "reason": "x"}
    )
    assert response.status_code == 200
    assert b"Nobody deactivates their own account" in response.content
    assert User.objects.get(pk=me.pk).is_active


def test_an_administrator_sets_a_password_checked_by_the_validators(day: Day, as_role) -> None:
    target = day.staff[Role.AUDITOR]
    url = reverse("admin:accounts_user_set_password", args=[target.pk])
    admin = as_role(Role.ADMINISTRATOR)
    weak = admin.post(url, {"new_password": "short", "new_password2": "short"})
    assert weak.status_code == 200
    assert weak.context["form"].errors["new_password"]
    assert User.objects.get(pk=target.pk).check_password(PASSWORD)
    done = admin.post(url, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(pk=target.pk).check_password(NEW_PASSWORD)
    entry = _latest("accounts.staff.password_changed")
    assert entry.target_id == str(target.pk)
    assert NEW_PASSWORD not in str([entry.before, entry.after, entry.reason])


@pytest.mark.parametrize("role", [Role.TRIAGE, Role.MODERATOR, Role.SENIOR_MODERATOR, Role.AUDITOR])
def test_other_roles_cannot_reach_the_staff_account_pages(day: Day, as_role, role: Role) -> None:
    target = day.staff[Role.TRIAGE]
    client = as_role(role)
    for name in ("admin:accounts_user_set_active", "admin:accounts_user_set_password"):
        response = client.post(
            reverse(name, args=[target.pk]),
            {"active": "0", "reason": "x", "new_password": NEW_PASSWORD},
        )
        assert response.status_code in (302, 403), name
    fresh = User.objects.get(pk=target.pk)
    assert fresh.is_active
    assert fresh.check_password(PASSWORD)
