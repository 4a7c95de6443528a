"""Appeals (DSA art. 20; POLICY.md §4 for under-age appeals): window, who, and reversal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from accounts.facts import facts_of
from accounts.models import Restriction, User
from messaging.models import Message, Thread
from moderation import services
from moderation.models import Appeal, Case, Notice, Strike
from safety_portal.core import clock
from safety_portal.core.errors import Conflict, DomainError, NotPermitted
from safety_portal.rules.decisions import add_months
from tests.factories.messaging import befriend, block, direct_thread, person, send
from tests.factories.moderation import decided, report_message, report_user

pytestmark = pytest.mark.django_db


def appeal(decision: object, appellant: User, **kw: object) -> Appeal:
    return services.file_appeal(
        decision, appellant=appellant, statement="I did not do this.", actor=appellant, **kw
    )


def suspended_pair(moderator: User) -> tuple[User, User, Thread, object]:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    thread = direct_thread(a, b)
    decision = decided(report_user(a, reporter=b).case, moderator, "suspend", days=10)
    return a, b, thread, decision


def test_the_affected_user_appeals_within_six_months_of_the_notice(moderator: User) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "warn")
    assert decision.appeal_deadline == add_months(decision.notified_at, 6)
    with time_machine.travel(decision.appeal_deadline + dt.timedelta(seconds=1), tick=False):
        with pytest.raises(Conflict) as caught:
            appeal(decision, subject)
        assert caught.value.code == "appeal_window_closed"
    with time_machine.travel(decision.appeal_deadline, tick=False):
        assert appeal(decision, subject).status == "pending"


def test_a_second_appeal_on_the_same_decision_is_refused(moderator: User) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "warn")
    appeal(decision, subject)
    with pytest.raises(Conflict) as caught:
        appeal(decision, subject)
    assert caught.value.code == "already_appealed"
    assert Appeal.objects.count() == 1


def test_only_the_person_concerned_appeals(moderator: User) -> None:
    subject, reporter = person(30), person(40)
    decision = decided(report_user(subject, reporter=reporter).case, moderator, "warn")
    with pytest.raises(NotPermitted):
        appeal(decision, reporter)
    with pytest.raises(NotPermitted):
        appeal(decision, person(22))


def test_a_reporter_appeals_a_no_violation_decision_and_the_case_reopens_for_seniors(
    moderator: User, senior: User
) -> None:
    subject, reporter = person(30), person(40)
    case = report_user(subject, reporter=reporter).case
    decision = decided(case, moderator, "no_violation")
    with pytest.raises(NotPermitted):
        appeal(decision, subject)
    filed = appeal(decision, reporter)
    services.decide_appeal(filed, actor=senior, overturn=True, note="The messages are abusive.")
    case.refresh_from_db()
    assert case.status == "escalated"
    assert Case.objects.claim_next(actor=senior, queue="senior") == case
    assert list(case.reports.values_list("outcome", flat=True)) == ["pending"]
    again = decided(case, senior, "warn")  # the overturned decision no longer stands
    assert list(case.decisions.final().standing()) == [again]


def test_the_appeal_is_decided_by_a_senior_who_did_not_take_the_decision(
    moderator: User, senior: User, other_senior: User
) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, senior, "suspend", days=40)
    filed = appeal(decision, subject)
    with pytest.raises(NotPermitted):
        services.decide_appeal(filed, actor=moderator, overturn=True, note="x")
    with pytest.raises(NotPermitted) as caught:
        services.decide_appeal(filed, actor=senior, overturn=True, note="x")
    assert caught.value.code == "own_decision"
    services.decide_appeal(filed, actor=other_senior, overturn=False, note="Evidence is clear.")
    filed.refresh_from_db()
    assert (filed.status, filed.reviewer) == ("rejected", other_senior)
    with pytest.raises(Conflict):
        services.decide_appeal(filed, actor=other_senior, overturn=True, note="changed my mind")


def test_overturning_a_suspension_lifts_it_restores_the_status_and_unlocks_its_threads(
    moderator: User, senior: User, audit_actions: Callable[[str], list[object]]
) -> None:
    a, _b, thread, decision = suspended_pair(moderator)
    thread.refresh_from_db()
    assert thread.locked
    filed = appeal(decision, a)
    services.decide_appeal(filed, actor=senior, overturn=True, note="Reported by mistake.")
    a.refresh_from_db()
    thread.refresh_from_db()
    assert a.status == "active"
    assert Restriction.objects.active(at=clock.now()).filter(user=a).count() == 0
    assert not thread.locked
    assert Strike.objects.count_active(a, at=clock.now()) == 0
    assert send(a, thread, "thanks for restoring my account").pk
    assert facts_of(a, at=clock.now(), on=clock.today()).status == "active"
    (entry,) = audit_actions("moderation.appeal.decided")
    assert set(entry.after["reversed"]) >= {
        "restriction_lifted",
        "status_restored",
        "thread_unlocked",
        "strike_removed",
    }
    notice = Notice.objects.get(recipient=a, kind="appeal_decided")
    assert "reversed" in notice.body or "undone" in notice.body


def test_overturning_a_message_removal_restores_the_message_and_unlocks_the_thread(
    moderator: User, senior: User
) -> None:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    thread = direct_thread(a, b)
    message = send(a, thread, "see you at the match")
    decision = decided(report_message(message, reporter=b).case, moderator, "remove_messages",
                       lock_thread=True)  # fmt: skip
    services.decide_appeal(appeal(decision, a), actor=senior, overturn=True, note="A joke.")
    message.refresh_from_db()
    thread.refresh_from_db()
    assert message.moderation_state == Message.State.VISIBLE
    assert not thread.locked


def test_a_lock_that_did_not_come_from_the_decision_stays(moderator: User, senior: User) -> None:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    thread = direct_thread(a, b)
    message = send(a, thread, "rude words")
    block(b, a)  # messaging locks the thread because of the block, not the decision
    thread.refresh_from_db()
    assert thread.locked
    assert thread.locked_source == "block"
    decision = decided(report_message(message, reporter=b).case, moderator, "remove_messages",
                       lock_thread=True)  # fmt: skip
    assert not decision.effects.filter(kind="thread_lock").exists()
    services.decide_appeal(appeal(decision, a), actor=senior, overturn=True, note="Fine.")
    thread.refresh_from_db()
    assert thread.locked
    assert thread.locked_source == "block"


def test_under_age_appeals_have_180_days_and_need_age_evidence(
    senior: User, other_senior: User
) -> None:
    teen = person(13)
    decision = decided(report_user(teen, reporter=person(40)).case, senior,
                       "require_age_verification", ground="")  # fmt: skip
    with pytest.raises(DomainError) as caught:
        appeal(decision, teen)
    assert set(caught.value.fields) == {"evidence_method", "evidence_reference"}
    with pytest.raises(DomainError):
        appeal(decision, teen, evidence_method="self_declared", evidence_reference="me")
    late = decision.notified_at + dt.timedelta(days=180, seconds=1)
    with time_machine.travel(late, tick=False), pytest.raises(Conflict):
        appeal(decision, teen, evidence_method="id_document", evidence_reference="idv:123")
    with time_machine.travel(decision.notified_at + dt.timedelta(days=179), tick=False):
        filed = appeal(decision, teen, evidence_method="id_document", evidence_reference="idv:123")
    assert filed.kind == "under_age"
    services.decide_appeal(filed, actor=other_senior, overturn=True, note="ID shows 13.")
    teen.refresh_from_db()
    assert teen.status == "active"


def test_an_escalation_cannot_be_appealed(moderator: User) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "escalate",
                       facts="Needs a senior.")  # fmt: skip
    with pytest.raises(Conflict):
        appeal(decision, subject)


def test_filing_and_deciding_an_appeal_are_audited_and_the_appellant_is_told(
    moderator: User, senior: User, audit_actions: Callable[[str], list[object]]
) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(40)).case, moderator, "warn")
    filed = appeal(decision, subject)
    services.decide_appeal(filed, actor=senior, overturn=False, note="Stands.")
    assert len(audit_actions("moderation.appeal.filed")) == 1
    assert len(audit_actions("moderation.appeal.decided")) == 1
    kinds = list(
        Notice.objects.filter(recipient=subject).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["decision", "appeal_received", "appeal_decided"]


def test_under_age_accounts_close_after_the_window_unless_an_appeal_is_pending_or_upheld(
    senior: User, other_senior: User
) -> None:
    from moderation.models import Decision

    def under_age_decision() -> tuple[User, Decision]:
        teen = person(13)
        return teen, decided(report_user(teen, reporter=person(40)).case, senior,
                             "require_age_verification", ground="")  # fmt: skip

    _, silent = under_age_decision()
    pending_teen, pending = under_age_decision()
    rejected_teen, rejected = under_age_decision()
    upheld_teen, upheld = under_age_decision()
    evidence = {"evidence_method": "id_document", "evidence_reference": "idv:9"}
    appeal(pending, pending_teen, **evidence)
    services.decide_appeal(appeal(rejected, rejected_teen, **evidence), actor=other_senior,
                           overturn=False, note="The ID is not the holder's.")  # fmt: skip
    services.decide_appeal(appeal(upheld, upheld_teen, **evidence), actor=other_senior,
                           overturn=True, note="ID confirms 13.")  # fmt: skip
    after = clock.now() + dt.timedelta(days=181)
    assert set(Decision.objects.under_age_unappealed(at=after)) == {silent, rejected}
    assert not Decision.objects.under_age_unappealed(at=clock.now()).exists()
