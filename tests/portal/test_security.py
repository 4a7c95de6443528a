"""CSP without inline code, CSRF on forms, idle sessions, secure cookies in production settings."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.roles import Role

from .scenario import Day

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(rb"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(rb"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(rb"\son[a-z]+\s*=", re.IGNORECASE)
EXTERNAL_ASSET = re.compile(rb"""(?:src|href)=["']https?://""", re.IGNORECASE)


def _pages(day: Day) -> list[tuple[Role, str]]:
    case = day.message_case
    return [
        (Role.MODERATOR, "/"),
        (Role.MODERATOR, reverse("portal:cases")),
        (Role.MODERATOR, reverse("portal:case", args=[case.pk])),
        (Role.MODERATOR, reverse("portal:case_thread", args=[case.pk])),
        (Role.MODERATOR, reverse("portal:flags")),
        (Role.MODERATOR, reverse("portal:users")),
        (Role.MODERATOR, reverse("portal:user_detail", args=[day.sender.pk])),
        (Role.SENIOR_MODERATOR, reverse("portal:appeals")),
        (Role.SENIOR_MODERATOR, reverse("portal:birthdate_requests")),
        (Role.AUDITOR, "/"),
        (Role.AUDITOR, reverse("portal:audit_log")),
        (Role.AUDITOR, reverse("portal:statements")),
        (Role.MODERATOR, reverse("portal:security")),
    ]


def test_every_page_carries_a_strict_csp_and_has_no_inline_code(day: Day, as_role) -> None:
    for role, path in _pages(day):
        response = as_role(role).get(path)
        assert response.status_code == 200, path
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        html = response.content
        assert not INLINE_SCRIPT.search(html), f"inline <script> on {path}"
        assert not STYLE_ELEMENT.search(html), f"<style> on {path}"
        assert not STYLE_ATTRIBUTE.search(html), f"style= attribute on {path}"
        assert not EVENT_HANDLER.search(html), f"inline event handler on {path}"
        assert not EXTERNAL_ASSET.search(html), f"asset from another origin on {path}"


def test_the_login_page_has_the_same_policy_and_frames_are_refused() -> None:
    response = Client().get("/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert not INLINE_SCRIPT.search(response.content)


def test_forms_are_refused_without_a_csrf_token(day: Day) -> None:
    from .conftest import sign_in

    client = sign_in(Client(enforce_csrf_checks=True), day.staff[Role.MODERATOR])
    response = client.post(reverse("portal:case_claim", args=[day.message_case.pk]))
    assert response.status_code == 403
    day.message_case.refresh_from_db()
    assert day.message_case.claimed_by is None
    assert (
        Client(enforce_csrf_checks=True)
        .post(reverse("portal:login"), {"username": "x", "password": "y"})
        .status_code
        == 403
    )


def test_sessions_end_after_inactivity() -> None:
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_TOUCH_SECONDS < settings.SESSION_COOKIE_AGE
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_an_active_session_is_kept_alive_past_the_idle_age(day: Day, as_role, time_machine) -> None:
    import datetime as dt

    client = as_role(Role.MODERATOR)
    start = dt.datetime.now(dt.UTC)
    step = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE // 3)
    for i in range(1, 7):  # twice the idle age in all, never idle for long
        time_machine.move_to(start + step * i)
        response = client.get(reverse("portal:cases"))
        assert response.status_code == 200, i


def test_an_idle_session_is_signed_out(day: Day, as_role, time_machine) -> None:
    import datetime as dt

    client = as_role(Role.MODERATOR)
    assert client.get(reverse("portal:cases")).status_code == 200
    time_machine.move_to(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    )
    response = client.get(reverse("portal:cases"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_production_settings_send_hsts_and_secure_cookies() -> None:
    # The suite runs with DEBUG off, i.e. the production branch of settings.py.
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.SESSION_COOKIE_HTTPONLY
