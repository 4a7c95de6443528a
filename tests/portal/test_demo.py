"""`seed_demo`'s staff logins: each gets its role and a second factor that the output explains."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management.color import no_style
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.demo import SHOWN_CODES, enrol_demo_staff
from accounts.models import User
from accounts.roles import roles_of
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.demo import DemoContext, DemoLogin
from tests.factories.accounts import StaffFactory

pytestmark = pytest.mark.django_db


def _context() -> DemoContext:
    ctx = DemoContext(rng=random.Random(1), out=io.StringIO(), style=no_style())
    for role, username in [("Moderator", "demo_mod"), ("Auditor", "demo_aud")]:
        StaffFactory(username=username)
        ctx.logins.append(DemoLogin(role=role, username=username, password="pw"))
    return ctx


def test_each_demo_login_gets_its_role_a_totp_uri_and_backup_codes() -> None:
    ctx = _context()
    enrol_demo_staff(ctx)
    for login in ctx.logins:
        user = User.objects.get(username=login.username)
        assert [r.value for r in roles_of(user)] == [login.role]
        uri, codes = login.second_factor
        assert uri.startswith("TOTP (add to an authenticator app): otpauth://totp/")
        shown = codes.split(": ", 1)[1].split()
        assert len(shown) == SHOWN_CODES
        assert set(shown) <= set(twofactor.unused_backup_codes(user))


def test_running_it_again_reuses_the_device_and_prints_the_same_codes() -> None:
    ctx = _context()
    enrol_demo_staff(ctx)
    first = [list(login.second_factor) for login in ctx.logins]
    entries = AuditEntry.objects.count()
    enrol_demo_staff(ctx)
    assert [list(login.second_factor) for login in ctx.logins] == first
    assert TOTPDevice.objects.filter(user__username="demo_mod").count() == 1
    assert AuditEntry.objects.count() == entries
    assert len(ctx.notes) == 1


def test_used_up_codes_are_replaced_when_too_few_are_left() -> None:
    ctx = _context()
    enrol_demo_staff(ctx)
    user = User.objects.get(username="demo_mod")
    device = user.staticdevice_set.get()
    keep = twofactor.unused_backup_codes(user)[: SHOWN_CODES - 1]
    device.token_set.exclude(token__in=keep).delete()
    enrol_demo_staff(ctx)
    shown = ctx.logins[0].second_factor[1].split(": ", 1)[1].split()
    assert len(shown) == SHOWN_CODES
    assert not set(shown) & set(keep)
