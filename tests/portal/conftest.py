"""Fixtures for the portal's tests: a moderation day, signed-in clients, and the browser."""

from __future__ import annotations

import os

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role

from .scenario import Day, build_day

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls (reading a
# TOTP key, checking the audit log) are still synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium: Playwright cannot download its own browser here (scripts/ensure_chromium.sh)."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(autouse=True)
def _static_without_manifest(settings: object) -> None:
    """Tests run with DEBUG off but without `collectstatic`: serve names as they are."""
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The dashboard caches its 30-day figures; each test starts from what its database holds."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def day(db: None) -> Day:
    return build_day()


def sign_in(client: Client, user: User) -> Client:
    """A session past both factors, as the login views leave it."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def as_role(day: Day):
    def make(role: Role) -> Client:
        return sign_in(Client(), day.staff[role])

    return make
