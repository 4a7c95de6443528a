"""The idempotent services behind the scheduled tasks (issue 7 wires the schedule)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from accounts.models import Restriction, User
from moderation import services, tasks
from moderation.models import Case, Notice
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from tests.factories.messaging import person
from tests.factories.moderation import SCAM, decided, report_user

pytestmark = pytest.mark.django_db

ACTOR = SystemActor("tests.jobs")


def test_the_tidy_up_records_an_ended_suspension_once_and_tells_the_user(
    moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    subject = person(16)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "suspend", days=2)
    before_end = decision.ends_at - dt.timedelta(minutes=1)
    assert services.end_elapsed_restrictions(actor=ACTOR, at=before_end) == 0
    after_end = decision.ends_at + dt.timedelta(minutes=1)
    with time_machine.travel(after_end, tick=False):
        assert tasks.tidy_expired_restrictions() == 1
        assert tasks.tidy_expired_restrictions() == 0
    subject.refresh_from_db()
    assert subject.status == "active"
    restriction = Restriction.objects.get(user=subject)
    assert restriction.end_recorded_at is not None
    notice = Notice.objects.get(recipient=subject, kind="restriction_ended")
    assert notice.tier == "older_teen"
    assert len(audit_actions("moderation.restriction.ended")) == 1


def test_the_tidy_up_keeps_a_suspension_that_another_restriction_still_backs(
    moderator: User,
) -> None:
    subject = person(30)
    short = decided(report_user(subject, reporter=person(40)).case, moderator, "suspend", days=1)
    decided(report_user(subject, reporter=person(41)).case, moderator, "suspend", days=5)
    services.end_elapsed_restrictions(actor=ACTOR, at=short.ends_at + dt.timedelta(minutes=1))
    subject.refresh_from_db()
    assert subject.status == "suspended"


def test_a_lifted_restriction_is_not_tidied(moderator: User, senior: User) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "suspend", days=1)
    appeal = services.file_appeal(decision, appellant=subject, statement="wrong", actor=subject)
    services.decide_appeal(appeal, actor=senior, overturn=True, note="Mistaken identity.")
    at = decision.ends_at + dt.timedelta(minutes=1)
    assert services.end_elapsed_restrictions(actor=ACTOR, at=at) == 0


def test_overdue_cases_are_raised_once_and_seniors_alerted_once(
    senior: User, other_senior: User, moderator: User
) -> None:
    case = report_user(person(30), reporter=person(40), category=SCAM).case
    assert (case.priority_score, case.priority) == (35, 4)
    late = case.due_at + dt.timedelta(minutes=5)
    with time_machine.travel(late, tick=False):
        assert tasks.escalate_overdue_cases() == 1
        assert tasks.escalate_overdue_cases() == 0
    case.refresh_from_db()
    assert (case.priority_score, case.priority) == (55, 3)
    assert case.overdue_escalated_at == late
    alerted = set(Notice.objects.filter(kind="case_overdue").values_list("recipient", flat=True))
    assert alerted == {senior.pk, other_senior.pk}


def test_the_claim_expiry_task_is_safe_to_run_twice(moderator: User) -> None:
    case = report_user(person(30), reporter=person(40)).case
    Case.objects.claim(case, actor=moderator)
    with time_machine.travel(clock.now() + dt.timedelta(hours=1), tick=False):
        assert tasks.expire_idle_claims() == 1
        assert tasks.expire_idle_claims() == 0


def test_the_contact_risk_task_is_safe_to_run_twice(settings: pytest.FixtureRequest) -> None:
    from messaging.models import Thread
    from safety_portal.core.errors import PolicyViolation

    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 1
    adult = person(40)
    with pytest.raises(PolicyViolation):
        Thread.objects.start(creator=adult, participants=[person(14)], actor=adult)
    assert tasks.evaluate_contact_risk(adult.pk) is True
    assert tasks.evaluate_contact_risk(adult.pk) is False
