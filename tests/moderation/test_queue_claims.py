"""The queue vocabulary and claims: who holds a case, for how long, and who may act on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from accounts.models import User
from moderation import services
from moderation.models import Case, CaseNote
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import Conflict, NotPermitted
from tests.factories.messaging import person
from tests.factories.moderation import CSAM, MINORS, SCAM, claimed, report_user

pytestmark = pytest.mark.django_db


def open_case(category: str = SCAM, *, subject_age: int = 30, **kwargs: object) -> Case:
    return report_user(person(subject_age), reporter=person(40), category=category, **kwargs).case


def test_the_queue_serves_the_highest_score_then_the_earliest_due(moderator: User) -> None:
    low = open_case(SCAM)
    urgent = open_case(MINORS, keywords=[CSAM])
    high = open_case("STATEMENT_CATEGORY_CYBER_VIOLENCE")
    assert list(Case.objects.for_queue(moderator=moderator)) == [urgent, high, low]


def test_the_vocabulary_reads_like_a_moderator_speaks(moderator: User) -> None:
    mine = claimed(open_case(), moderator)
    minors = open_case(subject_age=15)
    free = open_case()
    assert set(Case.objects.open()) == {mine, minors, free}
    assert set(Case.objects.open().unclaimed()) == {minors, free}
    assert list(Case.objects.claimed_by(moderator)) == [mine]
    assert list(Case.objects.involving_minors()) == [minors]
    later = clock.now() + dt.timedelta(hours=80)
    assert set(Case.objects.overdue(at=later)) == {mine, minors, free}
    assert not Case.objects.overdue().exists()
    flagged = Case.objects.with_overdue_flag(at=later).get(pk=free.pk)
    assert flagged.is_overdue


def test_claim_next_takes_the_top_case_and_audits_it(
    moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    open_case(SCAM)
    top = open_case("STATEMENT_CATEGORY_CYBER_VIOLENCE")
    case = Case.objects.claim_next(actor=moderator)
    assert case == top
    assert case.claimed_by == moderator
    assert case.claim_expires_at == case.claimed_at + dt.timedelta(minutes=30)
    (entry,) = audit_actions("moderation.case.claimed")
    assert entry.target_id == str(top.pk)


def test_claim_next_returns_none_when_the_queue_is_empty(moderator: User) -> None:
    assert Case.objects.claim_next(actor=moderator) is None


def test_a_minors_queue_serves_only_cases_involving_minors(moderator: User) -> None:
    open_case("STATEMENT_CATEGORY_CYBER_VIOLENCE")
    minors = open_case(SCAM, subject_age=15)
    assert Case.objects.claim_next(actor=moderator, queue="minors") == minors


def test_escalated_cases_go_to_senior_moderators_only(
    moderator: User, senior: User, audit_actions: Callable[[str], list[object]]
) -> None:
    case = claimed(open_case("STATEMENT_CATEGORY_CYBER_VIOLENCE"), moderator)
    services.decide(case, actor=moderator, decision_type="escalate", facts="Needs a senior.")
    case.refresh_from_db()
    assert (case.status, case.claimed_by) == ("escalated", None)
    assert Case.objects.claim_next(actor=moderator) is None
    with pytest.raises(NotPermitted):
        Case.objects.claim_next(actor=moderator, queue="senior")
    assert Case.objects.claim_next(actor=senior, queue="senior") == case
    assert len(audit_actions("moderation.case.escalated")) == 1


def test_triage_may_claim_note_and_escalate_but_not_decide(triage: User) -> None:
    case = Case.objects.claim_next(actor=triage)
    assert case is None
    case = claimed(open_case(), triage)
    CaseNote.objects.add(case, actor=triage, body="Looks like a scam ring; senior please.")
    with pytest.raises(NotPermitted):
        services.decide(case, actor=triage, decision_type="warn", ground="tc_scams", facts="x")
    services.decide(case, actor=triage, decision_type="escalate", facts="Scam ring.")


def test_an_app_user_or_auditor_cannot_claim(auditor: User) -> None:
    open_case()
    with pytest.raises(NotPermitted):
        Case.objects.claim_next(actor=auditor)
    with pytest.raises(NotPermitted):
        Case.objects.claim_next(actor=person(30))


def test_a_case_held_by_another_cannot_be_claimed(moderator: User, other_moderator: User) -> None:
    case = claimed(open_case(), moderator)
    with pytest.raises(Conflict) as caught:
        Case.objects.claim(case, actor=other_moderator)
    assert caught.value.code == "claimed_by_another"


def test_only_the_claimer_decides(moderator: User, other_moderator: User) -> None:
    case = claimed(open_case(), moderator)
    with pytest.raises(Conflict) as caught:
        services.decide(
            case, actor=other_moderator, decision_type="warn", ground="tc_scams", facts="x"
        )
    assert caught.value.code == "not_claimer"


def test_an_idle_claim_expires_and_the_case_returns_to_the_queue(
    moderator: User, other_moderator: User
) -> None:
    case = claimed(open_case(), moderator)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31), tick=False):
        assert Case.objects.open().unclaimed().filter(pk=case.pk).exists()
        with pytest.raises(Conflict) as caught:
            services.decide(
                case, actor=moderator, decision_type="warn", ground="tc_scams", facts="Spam."
            )
        assert caught.value.code == "claim_expired"
        assert Case.objects.claim_next(actor=other_moderator) == case


def test_activity_keeps_a_claim_alive(moderator: User) -> None:
    case = claimed(open_case(), moderator)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=25), tick=False):
        CaseNote.objects.add(case, actor=moderator, body="Checking the profile.")
    with time_machine.travel(clock.now() + dt.timedelta(minutes=50), tick=False):
        assert list(Case.objects.claimed_by(moderator)) == [case]


def test_the_claim_expiry_job_releases_idle_claims_once(
    moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    case = claimed(open_case(), moderator)
    later = clock.now() + dt.timedelta(minutes=45)
    actor = SystemActor("tests.claims")
    assert services.release_expired_claims(actor=actor, at=later) == 1
    assert services.release_expired_claims(actor=actor, at=later) == 0
    case.refresh_from_db()
    assert case.claimed_by is None
    assert len(audit_actions("moderation.case.claim_expired")) == 1


def test_release_is_for_the_claimer_and_audited(
    moderator: User, other_moderator: User, audit_actions: Callable[[str], list[object]]
) -> None:
    case = claimed(open_case(), moderator)
    with pytest.raises(Conflict):
        Case.objects.release(case, actor=other_moderator)
    Case.objects.release(case, actor=moderator, reason="Out of my depth.")
    assert len(audit_actions("moderation.case.released")) == 1


def test_a_senior_takes_over_a_claimed_case_audited_with_the_reason(
    moderator: User, senior: User, audit_actions: Callable[[str], list[object]]
) -> None:
    case = claimed(open_case(), moderator)
    with pytest.raises(NotPermitted):
        Case.objects.take_over(case, actor=moderator, reason="mine now")
    Case.objects.take_over(case, actor=senior, reason="Moderator is off shift.")
    decision = services.decide(
        case, actor=senior, decision_type="warn", ground="tc_scams", facts="Scam links."
    )
    assert decision.decided_by == senior
    (entry,) = audit_actions("moderation.case.taken_over")
    assert entry.reason == "Moderator is off shift."
    assert entry.before == {"claimed_by": moderator.pk}


def test_notes_are_audited(moderator: User, audit_actions: Callable[[str], list[object]]) -> None:
    case = claimed(open_case(), moderator)
    CaseNote.objects.add(case, actor=moderator, body="Profile photo is a stock image.")
    assert len(audit_actions("moderation.case.note_added")) == 1


def test_claim_next_costs_a_constant_number_of_queries(
    moderator: User, django_assert_max_num_queries: Callable[..., object]
) -> None:
    for _ in range(5):
        open_case()
    moderator.has_perm("moderation.claim_case")  # permissions cached, as on a logged-in request
    # select-for-update, update, and the audit entry (lock, chain head, insert); the test's own
    # savepoint and release make up the rest (a SET LOCAL when claims skip the disk flush).
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        Case.objects.claim_next(actor=moderator)


def test_an_unknown_queue_is_a_field_error(moderator: User) -> None:
    from safety_portal.core.errors import DomainError

    with pytest.raises(DomainError) as caught:
        Case.objects.claim_next(actor=moderator, queue="fastest")
    assert "queue" in caught.value.fields


@pytest.mark.parametrize(("durable", "skips_flush"), [(True, False), (False, True)])
def test_claims_are_durable_unless_the_operator_lets_them_skip_the_disk_flush(
    moderator: User, settings: object, durable: bool, skips_flush: bool
) -> None:
    """docs/decisions.md D7: durable by default; MODERATION_CLAIM_SYNCHRONOUS_COMMIT=False opts out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MODERATION_CLAIM_SYNCHRONOUS_COMMIT = durable  # type: ignore[attr-defined]
    open_case()
    with CaptureQueriesContext(connection) as queries:
        assert Case.objects.claim_next(actor=moderator) is not None
    statements = " ".join(q["sql"] for q in queries.captured_queries)
    assert ("synchronous_commit" in statements) is skips_flush
