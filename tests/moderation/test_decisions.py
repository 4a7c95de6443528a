"""Decisions of every type take effect in their own transaction, through the owning managers."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction

from accounts.facts import facts_of
from accounts.models import Restriction, User
from messaging.models import Message, Thread
from moderation import services
from moderation.models import Case, Decision, DecisionEffect, Notice, Report, Strike
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import (
    SCAM,
    decided,
    decision_copies,
    report_message,
    report_thread,
    report_user,
)

pytestmark = pytest.mark.django_db


def dm_pair(age_a: int = 30, age_b: int = 31) -> tuple[User, User, Thread]:
    a, b = person(age_a, dm="friends"), person(age_b, dm="friends")
    befriend(a, b)
    return a, b, direct_thread(a, b)


def user_case(subject: User | None = None, *, reporter: User | None = None, **kw: object) -> Case:
    subject = subject or person(30)
    return report_user(subject, reporter=reporter or person(41), **kw).case


def test_a_warning_adds_a_strike_and_a_notice_but_restricts_nothing(
    moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    case = user_case()
    decision = decided(case, moderator, "warn")
    case.refresh_from_db()
    assert case.status == "decided"
    assert case.claimed_by is None
    assert Strike.objects.count_active(case.subject_user, at=clock.now()) == 1
    assert not Restriction.objects.filter(user=case.subject_user).exists()
    assert not hasattr(decision, "statement") or decision.statement is None
    notice = Notice.objects.get(recipient=case.subject_user, kind="decision")
    assert "warning" in notice.subject.lower()
    assert list(case.reports.values_list("outcome", flat=True)) == ["upheld"]
    assert len(audit_actions("moderation.decision.taken")) == 1


def test_removing_a_message_keeps_its_body_and_can_lock_the_thread(moderator: User) -> None:
    a, b, thread = dm_pair()
    message = send(a, thread, "you are worthless")
    case = report_message(message, reporter=b).case
    decision = decided(case, moderator, "remove_messages", lock_thread=True)
    message.refresh_from_db()
    thread.refresh_from_db()
    assert message.moderation_state == Message.State.REMOVED
    assert message.body == "you are worthless"
    assert thread.locked
    assert thread.locked_source == Thread.LockSource.MODERATION
    assert decision.target_user == a
    assert decision.statement.payload["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    ]
    kinds = set(decision.effects.values_list("kind", flat=True))
    assert kinds == {"message_state", "thread_lock", "strike"}


def test_removing_messages_from_a_user_case_names_that_users_messages(moderator: User) -> None:
    a, b, thread = dm_pair()
    first, second = send(a, thread, "buy followers here"), send(a, thread, "cheap followers")
    reply = send(b, thread, "stop")
    case = user_case(a, reporter=b, category=SCAM)
    with pytest.raises(DomainError) as caught:
        decided(case, moderator, "remove_messages", ground="tc_spam", message_ids=[reply.pk])
    assert "message_ids" in caught.value.fields
    decided(case, moderator, "remove_messages", ground="tc_spam", message_ids=[first.pk, second.pk])
    assert set(Message.objects.filter(moderation_state="removed")) == {first, second}


def test_a_dm_restriction_refuses_sending_and_ends_by_itself(moderator: User) -> None:
    a, b, thread = dm_pair()
    case = user_case(a, reporter=b)
    decided(case, moderator, "restrict_feature", feature="direct_messages", days=7)
    now = clock.now()
    facts = facts_of(a, at=now, on=clock.today())
    assert rules.vocabulary.Feature.DIRECT_MESSAGES in facts.restricted_features
    with pytest.raises(PolicyViolation) as caught:
        Thread.objects.start(creator=a, participants=[person(35, dm="friends")], actor=a)
    assert caught.value.code in {"feature_restricted", "dm_not_friends"}
    with pytest.raises(PolicyViolation):
        send(a, thread, "still here")
    after = now + dt.timedelta(days=7, minutes=1)
    assert not facts_of(a, at=after, on=after.date()).restricted_features


def test_a_suspension_sets_the_status_and_ends_by_itself(moderator: User) -> None:
    a, b, thread = dm_pair()
    case = user_case(a, reporter=b)
    decision = decided(case, moderator, "suspend", days=7)
    a.refresh_from_db()
    assert a.status == "suspended"
    restriction = Restriction.objects.get(user=a)
    assert (restriction.kind, restriction.ends_at, list(decision.restrictions)) == (
        "suspension",
        decision.ends_at,
        [restriction],
    )
    with pytest.raises(PolicyViolation) as caught:
        Thread.objects.start(creator=a, participants=[person(33, dm="friends")], actor=a)
    assert caught.value.code in {"account_restricted", "dm_not_friends"}
    thread.refresh_from_db()
    assert thread.locked
    with pytest.raises(PolicyViolation):
        send(a, thread, "hello?")
    later = decision.ends_at + dt.timedelta(seconds=1)
    assert facts_of(a, at=later, on=later.date()).status is rules.vocabulary.AccountStatus.ACTIVE


def test_a_moderator_decides_up_to_thirty_days_and_a_senior_beyond(
    moderator: User, senior: User
) -> None:
    case = user_case()
    with pytest.raises(NotPermitted):
        decided(case, moderator, "suspend", days=31)
    with pytest.raises(NotPermitted):
        decided(case, moderator, "restrict_feature", feature="gifts", days=None)
    decision = decided(case, moderator, "suspend", days=30)
    assert decision.ends_at - decision.starts_at == dt.timedelta(days=30)
    other = user_case()
    Case.objects.take_over(other, actor=senior, reason="Long suspension needed.")
    assert decided(other, senior, "suspend", days=90).ends_at is not None


def test_termination_is_for_senior_moderators(moderator: User, senior: User) -> None:
    case = user_case()
    with pytest.raises(NotPermitted):
        decided(case, moderator, "terminate")
    decision = decided(case, senior, "terminate", ground="law_threats")
    decision.target_user.refresh_from_db()
    assert decision.target_user.status == "banned"
    assert decision.statement.payload["decision_account"] == "DECISION_ACCOUNT_TERMINATED"


def test_requiring_age_verification_pauses_the_account_with_a_180_day_appeal(
    moderator: User, senior: User
) -> None:
    case = user_case(person(14))
    with pytest.raises(NotPermitted):
        decided(case, moderator, "require_age_verification")
    decision = decided(case, senior, "require_age_verification", ground="")
    target = decision.target_user
    target.refresh_from_db()
    assert target.status == "under_age_review"
    assert decision.ground == "tc_minimum_age"
    assert decision.appeal_deadline == decision.notified_at + dt.timedelta(days=180)
    assert not Strike.objects.filter(user=target).exists()
    notice = Notice.objects.get(recipient=target, kind="decision")
    assert notice.tier == "young_teen"
    assert "check your age" in notice.subject


def test_no_violation_rejects_the_reports_and_tells_only_the_reporters(moderator: User) -> None:
    reporter = person(33)
    case = user_case(reporter=reporter)
    decision = decided(case, moderator, "no_violation")
    assert list(case.reports.values_list("outcome", flat=True)) == ["rejected"]
    assert not Strike.objects.exists()
    assert not Notice.objects.filter(recipient=case.subject_user).exists()
    notice = Notice.objects.get(recipient=reporter)
    assert notice.kind == "reporter_outcome"
    assert decision.appeal_deadline is not None  # the reporter may appeal (DSA art. 20)


def test_an_invalid_decision_writes_nothing(moderator: User) -> None:
    case = user_case()
    Case.objects.claim(case, actor=moderator)
    with pytest.raises(DomainError) as caught:
        services.decide(
            case,
            actor=moderator,
            decision_type="restrict_feature",
            ground="no_such_ground",
            facts="  ",
            feature="teleport",
            days=0,
        )
    assert set(caught.value.fields) >= {"ground", "facts", "feature", "days"}
    case.refresh_from_db()
    assert case.status == "open"
    assert case.claimed_by == moderator
    assert not Decision.objects.exists()
    assert not Restriction.objects.exists()


def test_an_unknown_decision_type_is_a_field_error(moderator: User) -> None:
    case = user_case()
    with pytest.raises(DomainError) as caught:
        decided(case, moderator, "vaporise")
    assert "decision_type" in caught.value.fields


def test_facts_naming_a_person_are_refused(moderator: User) -> None:
    subject = person(30)
    case = user_case(subject)
    with pytest.raises(DomainError) as caught:
        decided(case, moderator, "warn", facts=f"{subject.username} sent threats.")
    assert "facts" in caught.value.fields


def test_a_decided_case_cannot_be_decided_again(moderator: User) -> None:
    case = user_case()
    decided(case, moderator, "warn")
    with pytest.raises(Conflict) as caught:
        services.decide(case, actor=moderator, decision_type="warn", ground="tc_spam", facts="x")
    assert caught.value.code == "case_closed"


def test_the_database_refuses_a_second_standing_final_decision_whatever_writes_it(
    moderator: User,
) -> None:
    """The backstop under `decide`'s row lock: a script or a fixture writing decisions directly
    cannot give one case two standing outcomes."""
    first = decided(user_case(), moderator, "warn")

    def another(**changes: object) -> None:  # standing unless told, whatever `first` is now
        decision_copies(first, [{"overturned_at": None, **changes}])[0].save()

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        another()
    assert constraint_of(caught.value) == "one_standing_decision_per_case"
    another(type="escalate")  # not final
    Decision.objects.filter(pk=first.pk).update(overturned_at=clock.now())
    another()  # the overturned decision makes room for the next one
    with pytest.raises(IntegrityError), transaction.atomic():
        another()


def test_the_constraint_migration_names_the_cases_that_already_break_it(moderator: User) -> None:
    """An older database holding two standing decisions on one case: the migration stops with
    the case ids and what to do, before PostgreSQL's bare "could not create unique index"."""
    migration = importlib.import_module("moderation.migrations.0017_one_standing_decision_per_case")
    first = decided(user_case(), moderator, "warn")
    editor = SimpleNamespace(connection=connection)
    migration.refuse_if_already_broken(django_apps, editor)  # nothing broken: passes
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("DROP INDEX one_standing_decision_per_case")
    decision_copies(first, [{}])[0].save()
    with pytest.raises(RuntimeError, match=rf"decision: {first.case_id}\. Overturn"):
        migration.refuse_if_already_broken(django_apps, editor)


def test_a_thread_case_names_the_participant_an_account_decision_acts_on(
    moderator: User,
) -> None:
    a, b, thread = dm_pair()
    case = report_thread(thread, reporter=b).case
    with pytest.raises(DomainError) as caught:
        decided(case, moderator, "warn")
    assert "target_user" in caught.value.fields
    with pytest.raises(DomainError):
        decided(case, moderator, "warn", target_user=person(50))
    assert decided(case, moderator, "warn", target_user=a).target_user == a


def test_crossing_the_strike_threshold_proposes_but_never_applies_escalation(
    moderator: User,
) -> None:
    subject = person(30)
    proposals = []
    for _ in range(3):
        proposals.append(decided(user_case(subject), moderator, "warn").escalation_proposed)
    assert proposals == ["", "", "suspend"]
    subject.refresh_from_db()
    assert subject.status == "active"
    assert not Restriction.objects.filter(user=subject).exists()


def test_strikes_expire(moderator: User, settings: pytest.FixtureRequest) -> None:
    settings.MODERATION_STRIKE_TTL_DAYS = 10
    subject = person(30)
    decided(user_case(subject), moderator, "warn")
    assert Strike.objects.count_active(subject, at=clock.now()) == 1
    assert Strike.objects.count_active(subject, at=clock.now() + dt.timedelta(days=11)) == 0
    with time_machine.travel(clock.now() + dt.timedelta(days=11), tick=False):
        assert decided(user_case(subject), moderator, "warn").strikes_after == 1


def test_every_effect_is_recorded_for_an_appeal_to_reverse(moderator: User) -> None:
    a, b, _thread = dm_pair()
    decision = decided(user_case(a, reporter=b), moderator, "suspend", days=3)
    effects = {(e.kind, e.before, e.after) for e in decision.effects.all()}
    assert ("status", "active", "suspended") in effects
    assert ("thread_lock", "", "locked") in effects
    assert DecisionEffect.objects.filter(decision=decision, kind="restriction").count() == 1
    assert DecisionEffect.objects.filter(decision=decision, kind="strike").count() == 1


def test_reporters_hear_the_outcome_in_one_audited_batch(
    moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    subject = person(30)
    reporters = [person(20 + i) for i in range(4)]
    for reporter in reporters:
        report_user(subject, reporter=reporter)
    decided(Case.objects.get(subject_key=f"user:{subject.pk}"), moderator, "warn")
    assert Notice.objects.filter(kind="reporter_outcome").count() == 4
    assert len(audit_actions("moderation.notice.sent_to_many")) == 1
    assert Report.objects.filter(outcome="upheld").count() == 4


def test_the_case_list_shows_the_subjects_active_strikes(moderator: User) -> None:
    subject = person(30)
    decided(user_case(subject), moderator, "warn")
    decided(user_case(subject), moderator, "warn")
    open_case = user_case(subject)
    annotated = Case.objects.with_active_strikes().get(pk=open_case.pk)
    assert annotated.active_strikes == 2
    later = clock.now() + dt.timedelta(days=91)
    assert Case.objects.with_active_strikes(at=later).get(pk=open_case.pk).active_strikes == 0


def test_a_decision_through_an_api_client_audits_the_client_and_names_the_moderator(
    moderator: User,
) -> None:
    from safety_portal.core.audit.actors import ActorIdentity
    from safety_portal.core.audit.models import AuditEntry

    class Client:
        def audit_identity(self) -> ActorIdentity:
            return ActorIdentity(kind="api_client", id="3", label="trust-tools")

    case = user_case()
    Case.objects.claim(case, actor=moderator)
    services.decide(
        case, actor=moderator, decision_type="suspend", ground="tc_harassment",
        facts="Threats.", days=2, via=Client(),
    )  # fmt: skip
    entry = AuditEntry.objects.get(action="moderation.decision.taken")
    assert (entry.actor_kind, entry.actor_id) == ("api_client", "3")
    assert entry.after["moderator"] == moderator.pk


def test_a_reporter_whose_reports_keep_being_rejected_is_marked_and_ranks_lower(
    moderator: User, settings: pytest.FixtureRequest, audit_actions: Callable[[str], list[object]]
) -> None:
    from moderation.models import ReporterStanding

    settings.MODERATION_REPORTER_MARK_MIN_REJECTED = 3
    reporter = person(27)
    for _ in range(3):
        decided(user_case(reporter=reporter), moderator, "no_violation")
    assert ReporterStanding.objects.is_marked(reporter.pk)
    assert len(audit_actions("moderation.reporter.marked")) == 1
    report = report_user(person(30), reporter=reporter)
    assert report.low_credibility
    assert report.case.priority_score == 60 - 20  # ranked lower, still a case in the queue


def test_a_suspension_never_loosens_a_ban(moderator: User, senior: User) -> None:
    subject = person(30)
    decided(user_case(subject), senior, "terminate")
    decision = decided(user_case(subject), moderator, "suspend", days=3)
    subject.refresh_from_db()
    assert subject.status == "banned"
    assert not decision.effects.filter(kind="status").exists()
