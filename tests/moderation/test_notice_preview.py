"""The notice preview: exactly the notice a decision would send, and nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from moderation import services
from moderation.models import Case, Decision, Notice
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, NotPermitted
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import FACTS, claimed, report_message, report_user

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)

CASES = [
    ("warn", {"ground": "tc_harassment"}),
    ("restrict_feature", {"ground": "tc_harassment", "feature": "direct_messages", "days": 7}),
    ("suspend", {"ground": "tc_harassment", "days": 7, "explanation": "Repeated insults."}),
    ("terminate", {"ground": "tc_harassment"}),
    ("require_age_verification", {"ground": "tc_minimum_age"}),
]


def _row_counts() -> dict[str, int]:
    return {
        "decisions": Decision.objects.count(),
        "notices": Notice.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.parametrize(("decision_type", "inputs"), CASES)
@pytest.mark.parametrize("age", [14, 35])
def test_the_preview_is_the_notice_the_decision_then_stores(
    senior: User, decision_type: str, inputs: dict[str, Any], age: int
) -> None:
    subject = person(age)
    case = claimed(report_user(subject, reporter=person(40)).case, senior)
    with time_machine.travel(MOMENT, tick=False):
        preview = services.preview_decision_notice(
            case, actor=senior, decision_type=decision_type, **inputs
        )
        services.decide(case, actor=senior, decision_type=decision_type, facts=FACTS, **inputs)
    stored = Notice.objects.get(recipient=subject, kind="decision")
    assert preview is not None
    assert (preview.subject, preview.body, preview.tier) == (
        stored.subject,
        stored.body,
        stored.tier,
    )


@pytest.mark.parametrize("lock_thread", [False, True])
def test_a_message_removal_preview_says_whether_the_thread_will_be_locked(
    moderator: User, lock_thread: bool
) -> None:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    message = send(a, direct_thread(a, b), "rude")
    case = claimed(report_message(message, reporter=b).case, moderator)
    inputs: dict[str, Any] = {
        "decision_type": "remove_messages",
        "ground": "tc_harassment",
        "message_ids": [message.pk],
        "lock_thread": lock_thread,
    }
    with time_machine.travel(MOMENT, tick=False):
        preview = services.preview_decision_notice(case, actor=moderator, **inputs)
        services.decide(case, actor=moderator, facts=FACTS, **inputs)
    stored = Notice.objects.get(recipient=a, kind="decision")
    assert preview is not None
    assert (preview.subject, preview.body) == (stored.subject, stored.body)


def test_previewing_writes_no_row_and_no_audit_entry(moderator: User) -> None:
    case = claimed(report_user(person(15), reporter=person(40)).case, moderator)
    before = _row_counts()
    with CaptureQueriesContext(connection) as queries:
        preview = services.preview_decision_notice(
            case, actor=moderator, decision_type="suspend", ground="tc_harassment", days=7
        )
    assert preview is not None
    assert preview.tier == "young_teen"
    assert _row_counts() == before
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.claimed_by_id, after.decided_at) == (
        case.status,
        moderator.pk,
        None,
    )


def test_the_preview_refuses_what_the_decision_would_refuse(moderator: User) -> None:
    case = claimed(report_user(person(20), reporter=person(40)).case, moderator)
    with pytest.raises(DomainError) as missing_ground:
        services.preview_decision_notice(case, actor=moderator, decision_type="warn")
    assert "ground" in missing_ground.value.fields
    with pytest.raises(NotPermitted):
        services.preview_decision_notice(
            case, actor=moderator, decision_type="suspend", ground="tc_harassment", days=60
        )


def test_no_violation_and_escalation_have_no_notice_to_preview(moderator: User) -> None:
    case = claimed(report_user(person(20), reporter=person(40)).case, moderator)
    for kind in ("no_violation", "escalate"):
        assert services.preview_decision_notice(case, actor=moderator, decision_type=kind) is None
    assert not Decision.objects.filter(case=case).exists()
