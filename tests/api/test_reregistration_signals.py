"""Re-registration after an under-age refusal or a minimum-age review (POLICY.md §7.3): verified
signals (salted hashes of a device or recovery identifier) refuse a new sign-up with another
external id and another birthdate, while they are kept (the appeal window plus 30 days)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine

from accounts.models import ReRegistrationSignal, User
from accounts.tasks import purge_reregistration_signals
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.api.models import AgeGateAttempt
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import birthdate_for_age

from .conftest import app_user

pytestmark = pytest.mark.django_db
USERS = "/api/v1/users/"


def digest(identifier: str) -> str:
    """What the app's integration sends: its own salt, then SHA-256; we never see either input."""
    return hashlib.sha256(b"integration-salt:" + identifier.encode()).hexdigest()


PHONE = {"kind": "device", "digest": digest("device-4f2a")}


def _signup(caller, *, age: int, external_id: str, country: str = "GB", signals=None):
    body = {
        "external_id": external_id,
        "username": f"u-{external_id}",
        "birthdate": birthdate_for_age(age).isoformat(),
        "country": country,
    }
    if signals is not None:
        body["signals"] = signals
    return caller.post(USERS, body)


def test_a_sign_up_from_a_device_refused_for_age_is_refused_under_another_external_id(
    make_caller,
) -> None:
    caller = make_caller("users:write")
    assert _signup(caller, age=12, external_id="kid-1", signals=[PHONE]).status_code == 403
    # a month later, a new external id and a birthdate that would pass: the device gives it away
    with time_machine.travel(clock.now() + dt.timedelta(days=30), tick=False):
        response = _signup(caller, age=18, external_id="kid-1-again", signals=[PHONE])
    assert response.status_code == 403
    assert response.json()["code"] == "age_gate_retry"
    assert not User.objects.filter(external_id="kid-1-again").exists()
    assert AgeGateAttempt.objects.get(external_id="kid-1-again").flagged
    stored = ReRegistrationSignal.objects.get()
    assert (stored.kind, stored.digest, stored.cause) == (
        "device",
        PHONE["digest"],
        "age_gate_refusal",
    )


def test_a_signal_is_kept_for_the_appeal_window_plus_30_days_and_then_deleted(make_caller) -> None:
    caller = make_caller("users:write")
    _signup(caller, age=12, external_id="kid-2", signals=[PHONE])
    kept_until = rules.minimum_age.signal_kept_until(clock.today())
    assert ReRegistrationSignal.objects.get().keep_until == kept_until
    assert kept_until - clock.today() == dt.timedelta(
        days=rules.decisions.UNDER_AGE_APPEAL_DAYS + 30
    )
    with time_machine.travel(clock.now() + dt.timedelta(days=210), tick=False):
        assert purge_reregistration_signals() == 0  # the last day it may be kept
    with time_machine.travel(clock.now() + dt.timedelta(days=211), tick=False):
        assert purge_reregistration_signals() == 1
        assert not ReRegistrationSignal.objects.exists()
    assert AuditEntry.objects.filter(action="accounts.reregistration_signals.purged").count() == 1


def test_signals_of_an_account_under_minimum_age_review_refuse_a_new_sign_up(make_caller) -> None:
    caller = make_caller("users:write")
    teen = app_user(14, country="GB")
    User.objects.change_status(
        teen, "under_age_review", actor=SystemActor("tests"), reason="age signal"
    )
    recovery = {"kind": "recovery", "digest": digest("mum@example.org")}
    report = caller.post(f"{USERS}{teen.pk}/re-registration-signals/", {"signals": [recovery]})
    assert report.status_code == 202
    entry = AuditEntry.objects.get(action="accounts.reregistration_signals.recorded")
    assert recovery["digest"] not in str(entry.after)  # the audit counts signals, never the hashes
    response = _signup(caller, age=19, external_id="fresh-start", signals=[recovery])
    assert (response.status_code, response.json()["code"]) == (403, "age_gate_retry")


def test_signals_are_refused_for_an_account_not_under_review(make_caller) -> None:
    caller = make_caller("users:write")
    adult = app_user(30)
    response = caller.post(f"{USERS}{adult.pk}/re-registration-signals/", {"signals": [PHONE]})
    assert (response.status_code, response.json()["code"]) == (409, "not_under_review")
    assert not ReRegistrationSignal.objects.exists()


@pytest.mark.parametrize(
    "signal",
    [
        {"kind": "device", "digest": "+44 7700 900123"},  # the identifier itself, not its hash
        {"kind": "device", "digest": "ab" * 31},  # too short
        {"kind": "imei", "digest": "ab" * 32},
    ],
)
def test_a_signal_that_is_not_a_salted_hash_is_a_field_error_and_keeps_nothing(
    make_caller, signal
) -> None:
    caller = make_caller("users:write")
    response = _signup(caller, age=12, external_id="kid-3", signals=[signal])
    assert response.status_code == 400
    assert any(name.startswith("signals") for name in response.json()["fields"])
    assert not ReRegistrationSignal.objects.exists()
    assert not AgeGateAttempt.objects.filter(external_id="kid-3").exists()
