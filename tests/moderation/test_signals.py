"""Signals that raise cases on their own: contact risk and age (issue 4; POLICY.md §3-4)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import User
from messaging.models import RefusedContactAttempt, Thread
from moderation import risk_signals, services
from moderation.models import Case, Flag, Report
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import NotPermitted, PolicyViolation
from safety_portal.core.outbox.models import OutboxMessage
from tests.factories.messaging import befriend, direct_thread, person
from tests.factories.moderation import decided

pytestmark = pytest.mark.django_db

ACTOR = SystemActor("tests.signals")


def try_to_message(adult: User, minor: User) -> None:
    with pytest.raises(PolicyViolation):
        Thread.objects.start(creator=adult, participants=[minor], actor=adult)


def evaluate(user: User) -> Flag | None:
    return risk_signals.evaluate_contact_risk(user_id=user.pk, actor=ACTOR, at=clock.now())


def test_an_adult_refused_by_many_distinct_minors_gets_a_report_and_a_flag(
    settings: pytest.FixtureRequest,
) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 3
    adult = person(34)
    for _ in range(2):
        try_to_message(adult, person(15))
    assert evaluate(adult) is None
    try_to_message(adult, person(14))
    flag = evaluate(adult)
    assert flag is not None
    assert flag.kind == "contact_risk"
    report = Report.objects.get(subject_user=adult)
    assert (report.reporter_kind, report.reporter_label) == ("automated", "contact_risk")
    assert report.category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert report.keywords == ["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"]
    assert report.evidence["distinct_minors"] == 3
    assert len(report.evidence["attempts"]) == 3
    assert report.case.priority == 1
    assert report.case.involves_minor
    assert flag.case == report.case


def test_repeated_refusals_to_one_minor_trigger_the_refusal_threshold(
    settings: pytest.FixtureRequest,
) -> None:
    settings.MODERATION_CONTACT_RISK_REFUSALS = 4
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 99
    adult, minor = person(40), person(15)
    for _ in range(3):
        try_to_message(adult, minor)
    assert evaluate(adult) is None
    try_to_message(adult, minor)
    assert evaluate(adult) is not None


def test_the_evaluation_is_idempotent(settings: pytest.FixtureRequest) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 2
    adult = person(34)
    try_to_message(adult, person(15))
    try_to_message(adult, person(15))
    first = evaluate(adult)
    assert evaluate(adult) is None
    assert Report.objects.count() == 1
    try_to_message(adult, person(14))
    again = evaluate(adult)
    assert again == first
    assert again.signal_count == 2
    assert Report.objects.count() == 1  # the case is still open: evidence gathers on the flag


def test_attempts_outside_the_window_do_not_count(settings: pytest.FixtureRequest) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 2
    settings.MODERATION_CONTACT_RISK_WINDOW_HOURS = 1
    adult = person(34)
    with time_machine.travel(clock.now() - dt.timedelta(hours=3), tick=False):
        try_to_message(adult, person(15))
    try_to_message(adult, person(15))
    assert evaluate(adult) is None


def test_minors_refused_by_each_other_raise_nothing(settings: pytest.FixtureRequest) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 1
    teen = person(15)
    try_to_message(teen, person(14))
    assert evaluate(teen) is None


def test_a_refusal_to_a_minor_queues_an_evaluation_through_the_outbox(
    django_capture_on_commit_callbacks: object, settings: pytest.FixtureRequest
) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 1
    adult, minor, other_adult = person(34), person(15), person(50)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        try_to_message(adult, minor)
    assert OutboxMessage.objects.filter(task_name=risk_signals.TASK).count() == 1
    assert Flag.objects.filter(user=adult, kind="contact_risk").exists()  # eager task ran
    with pytest.raises(PolicyViolation):  # an adult refused by an adult: nothing queued
        Thread.objects.start(creator=other_adult, participants=[person(51, dm="nobody")],
                             actor=other_adult)  # fmt: skip
    assert OutboxMessage.objects.filter(task_name=risk_signals.TASK).count() == 1
    assert RefusedContactAttempt.objects.count() == 2


def test_a_confident_age_estimate_below_the_minimum_raises_a_flag_not_an_age_change() -> None:
    user = person(19)
    born = user.birthdate
    flag = services.record_age_estimate(user=user, estimated_age=11.5, confidence=0.93, actor=ACTOR)
    assert flag is not None
    assert flag.kind == "age"
    assert flag.signals[0]["estimated_age"] == 11.5
    user.refresh_from_db()
    assert user.birthdate == born
    assert user.status == "active"


@pytest.mark.parametrize(
    ("declared", "estimate", "confidence", "raises"),
    [
        (25, 24.0, 0.99, False),  # consistent
        (25, 14.0, 0.5, False),  # not confident enough
        (25, 15.0, 0.9, True),  # a younger tier, well below
        (17, 16.5, 0.9, False),  # same tier
        (16, 13.5, 0.9, True),  # declared 16, looks 13
    ],
)
def test_age_estimates_raise_flags_only_when_they_warrant_review(
    declared: int, estimate: float, confidence: float, raises: bool
) -> None:
    user = person(declared)
    flag = services.record_age_estimate(
        user=user, estimated_age=estimate, confidence=confidence, actor=ACTOR
    )
    assert (flag is not None) is raises


def test_signals_gather_on_one_open_flag() -> None:
    user = person(25)
    for _ in range(3):
        services.record_age_estimate(user=user, estimated_age=12, confidence=0.95, actor=ACTOR)
    flag = Flag.objects.get(user=user)
    assert flag.signal_count == 3


def test_staff_dismiss_or_confirm_a_flag_audited(moderator: User, triage: User) -> None:
    user = person(25)
    flag = services.record_age_estimate(user=user, estimated_age=12, confidence=0.95, actor=ACTOR)
    with pytest.raises(NotPermitted):
        Flag.objects.dismiss(flag, actor=triage, note="looks fine")
    case = services.confirm_flag(flag, actor=moderator, note="Profile says year 7 at school.")
    flag.refresh_from_db()
    assert flag.status == "confirmed"
    assert flag.case == case
    assert case.status == "open"
    assert Flag.objects.filter(user=user, kind="age", status="open").count() == 0
    user.refresh_from_db()
    assert user.status == "active"


def test_a_senior_requests_age_verification_from_a_flag(senior: User) -> None:
    user = person(20)
    flag = services.record_age_estimate(user=user, estimated_age=11, confidence=0.97, actor=ACTOR)
    decision = services.request_age_verification(flag, actor=senior, note="Looks about 11.")
    user.refresh_from_db()
    assert user.status == "under_age_review"
    assert decision.type == "require_age_verification"
    assert decision.statement.payload["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert Case.objects.get(pk=decision.case_id).status == "decided"


def test_a_moderator_cannot_require_age_verification(moderator: User) -> None:
    user = person(20)
    flag = services.record_age_estimate(user=user, estimated_age=11, confidence=0.97, actor=ACTOR)
    with pytest.raises(NotPermitted):
        services.request_age_verification(flag, actor=moderator, note="x")


def test_a_decided_contact_risk_case_gets_a_new_report_on_new_evidence(
    moderator: User, settings: pytest.FixtureRequest
) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 1
    adult = person(34)
    try_to_message(adult, person(15))
    flag = evaluate(adult)
    decided(flag.case, moderator, "warn", ground="tc_minor_safety")
    try_to_message(adult, person(14))
    evaluate(adult)
    assert Report.objects.filter(subject_user=adult).count() == 2
    assert Case.objects.open().filter(subject_user=adult).count() == 1


def test_the_contact_risk_picture_counts_what_the_signal_counts(
    settings: pytest.FixtureRequest,
) -> None:
    settings.MODERATION_CONTACT_RISK_DISTINCT_MINORS = 3
    settings.MODERATION_CONTACT_RISK_WINDOW_HOURS = 24
    adult, friend = person(34, dm="friends"), person(16, dm="friends")
    befriend(adult, friend)
    direct_thread(adult, friend)  # a minor reached
    younger = person(14)
    for minor in (younger, younger, person(15)):
        try_to_message(adult, minor)
    try_to_message(adult, person(13))
    evaluate(adult)
    signal = Report.objects.get(subject_user=adult).evidence
    (day,) = risk_signals.contact_risk_picture(adult, at=clock.now(), windows_days=(1,)).windows
    assert (day.distinct_minors, day.refused_attempts) == (
        signal["distinct_minors"],
        signal["refusals_to_minors"],
    )
    assert (day.minors_reached, day.minors_refused) == (1, 3)
    assert day.reasons == (("dm_recipient_under_16", 4),)


def test_the_contact_risk_picture_is_for_adults_only() -> None:
    teen = person(17)
    try_to_message(teen, person(14))
    assert risk_signals.contact_risk_picture(teen, at=clock.now()) is None
