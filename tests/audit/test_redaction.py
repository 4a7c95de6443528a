"""What the log keeps: no secrets, no minor's exact birthdate, an adult's birthdate intact
(POLICY.md §1, §4; decisions D4), and the request id and IP of the request that made the change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from safety_portal import rules
from safety_portal.core import audit
from safety_portal.core.audit import chain
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.audit.redaction import REDACTED, redact
from tests.dates import born

from .conftest import verify

ON = dt.date(2026, 6, 15)
ACTOR = SystemActor("tests.redaction")


def test_secrets_are_redacted_wherever_they_sit() -> None:
    values = {
        "password": "hunter2",
        "api_key": "sk-live-1",
        "otp_secret": "JBSWY3DP",
        "settings": {"dm": "friends", "session_token": "abc"},
        "factors": [{"kind": "totp", "backup_codes": ["1234-5678"]}],
    }

    assert redact(values, on=ON) == {
        "password": REDACTED,
        "api_key": REDACTED,
        "otp_secret": REDACTED,
        "settings": {"dm": "friends", "session_token": REDACTED},
        "factors": [{"kind": "totp", "backup_codes": REDACTED}],
    }


@pytest.mark.parametrize(
    ("age", "tier"), [(12, "child"), (13, "young_teen"), (15, "young_teen"), (17, "older_teen")]
)
def test_a_minors_birthdate_becomes_age_and_tier(age: int, tier: str) -> None:
    assert redact({"birthdate": born(age, on=ON)}, on=ON) == {
        "birthdate": {"redacted": "minor", "age": age, "tier": tier}
    }


def test_an_adults_birthdate_is_kept() -> None:
    assert redact({"birthdate": born(34, on=ON)}, on=ON) == {
        "birthdate": born(34, on=ON).isoformat()
    }


def test_the_eighteenth_birthday_is_the_boundary() -> None:
    today_eighteen = rules.ages.latest_birthdate_for_age(18, ON)
    tomorrow_eighteen = today_eighteen + dt.timedelta(days=1)

    assert redact({"birthdate": today_eighteen}, on=ON) == {"birthdate": today_eighteen.isoformat()}
    assert redact({"birthdate": tomorrow_eighteen}, on=ON)["birthdate"]["age"] == 17


def test_a_minors_birthdate_nested_under_a_birthdate_key_or_as_text_is_redacted() -> None:
    old, new = born(16, on=ON), born(14, on=ON)
    redacted = redact(
        {
            "birthdate": {"old": old.isoformat(), "new": f"{new.isoformat()}T00:00:00"},
            "request": {"new_birthdate": new, "dob": new},
        },
        on=ON,
    )

    assert redacted == {
        "birthdate": {
            "old": {"redacted": "minor", "age": 16, "tier": "older_teen"},
            "new": {"redacted": "minor", "age": 14, "tier": "young_teen"},
        },
        "request": {
            "new_birthdate": {"redacted": "minor", "age": 14, "tier": "young_teen"},
            "dob": {"redacted": "minor", "age": 14, "tier": "young_teen"},
        },
    }


def test_values_get_one_exact_json_form() -> None:
    assert redact(
        {"score": 0.1, "big": 1e100, "tier": rules.vocabulary.Tier.ADULT, "tags": {"b", "a"}}, on=ON
    ) == {"score": "0.1", "big": "1e+100", "tier": "adult", "tags": ["a", "b"]}


@pytest.mark.django_db
def test_a_minors_sign_up_entry_holds_no_birthdate() -> None:
    from tests.factories.accounts import AppUserFactory, birthdate_for_age

    adult = AppUserFactory(birthdate=birthdate_for_age(30))
    teen = AppUserFactory(birthdate=birthdate_for_age(15))

    def created(user) -> dict:
        return AuditEntry.objects.for_target(user).get(action="accounts.user.created").after

    assert created(adult)["birthdate"] == adult.birthdate.isoformat()
    assert created(teen)["birthdate"] == {"redacted": "minor", "age": 15, "tier": "young_teen"}
    assert teen.birthdate.isoformat() not in str(created(teen))


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.urls")
def test_entries_written_during_a_request_carry_its_id_and_ip(client) -> None:
    response = client.get(
        "/audit-probe/", HTTP_X_REQUEST_ID="lb-2f9c1e77a0", REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 200
    stored = AuditEntry.objects.get(pk=response.json()["entry_id"])
    assert (stored.request_id, stored.ip) == ("lb-2f9c1e77a0", "203.0.113.7")
    assert response["X-Request-ID"] == "lb-2f9c1e77a0"


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.urls")
@pytest.mark.parametrize(
    ("remote_addr", "stored_as"),
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        # PostgreSQL spells this address differently from Python; the hash must not care.
        ("::ffff:203.0.113.7", "::ffff:203.0.113.7"),
    ],
)
def test_a_forged_request_id_is_replaced_and_an_ipv6_address_still_verifies(
    client, remote_addr: str, stored_as: str
) -> None:
    response = client.get(
        "/audit-probe/", HTTP_X_REQUEST_ID="<script>alert(1)</script>", REMOTE_ADDR=remote_addr
    )

    stored = AuditEntry.objects.get(pk=response.json()["entry_id"])
    assert stored.request_id == response["X-Request-ID"]
    assert len(stored.request_id) == 32
    assert stored.ip == stored_as
    assert chain.compute_hash(chain.entry_payload(stored)) == stored.hash
    assert verify("--anchors", "none").code == 0


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.urls")
@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [("198.51.100.23, 203.0.113.9", "203.0.113.9"), ("198.51.100.23, not-an-ip", None)],
)
def test_behind_a_proxy_the_ip_comes_from_its_forwarded_for_entry(
    client, settings, forwarded: str, expected: str | None
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.get("/audit-probe/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")

    assert AuditEntry.objects.get(pk=response.json()["entry_id"]).ip == expected


@pytest.mark.django_db
def test_outside_a_request_entries_have_no_request_id_or_ip() -> None:
    with transaction.atomic():
        written = audit.record(actor=ACTOR, action="tests.job.ran")

    stored = AuditEntry.objects.get(pk=written.pk)
    assert (stored.request_id, stored.ip) == ("", None)
