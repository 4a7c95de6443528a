"""Backstops under the managers: what walks around them is refused by the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, transaction

from accounts.models import User
from moderation.models import Appeal, Case, Decision, Report, StatementOfReasons
from safety_portal.core import clock
from tests.factories.messaging import person
from tests.factories.moderation import decided, report_user

pytestmark = pytest.mark.django_db

REFUSED = (IntegrityError, InternalError)


@pytest.fixture
def decision(moderator: User) -> Decision:
    return decided(report_user(person(30), reporter=person(40)).case, moderator, "suspend", days=3)


def stored(decision: Decision, *fields: str) -> tuple[object, ...]:
    """The row as the database holds it now, not as the instance in hand remembers it."""
    return Decision.objects.filter(pk=decision.pk).values_list(*fields).get()


def test_a_decisions_substance_cannot_be_edited_in_place(decision: Decision) -> None:
    substance = stored(decision, "facts", "ends_at")
    assert substance[1] is not None  # a three-day suspension ends
    with pytest.raises(REFUSED, match="never edited in place"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(facts="Something else entirely.")
    with pytest.raises(REFUSED), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(ends_at=None)
    assert stored(decision, "facts", "ends_at") == substance


def test_a_decisions_bookkeeping_may_be_written(decision: Decision) -> None:
    substance = stored(decision, "facts", "ends_at")
    assert stored(decision, "strikes_after") != (2,)
    Decision.objects.filter(pk=decision.pk).update(strikes_after=2)
    assert stored(decision, "strikes_after") == (2,)
    assert stored(decision, "facts", "ends_at") == substance


def test_an_overturn_is_final(decision: Decision) -> None:
    Decision.objects.filter(pk=decision.pk).update(overturned_at=clock.now())
    with pytest.raises(REFUSED, match="overturned once"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(overturned_at=None)


def test_decisions_and_statements_are_never_deleted(decision: Decision) -> None:
    with pytest.raises(REFUSED, match="never deleted"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk)._raw_delete(using="default")
    statement = StatementOfReasons.objects.get(decision=decision)
    with pytest.raises(REFUSED, match="never changed"), transaction.atomic():
        StatementOfReasons.objects.filter(pk=statement.pk).update(payload={})
    with pytest.raises(REFUSED, match="never changed or deleted"), transaction.atomic():
        StatementOfReasons.objects.filter(pk=statement.pk)._raw_delete(using="default")


def test_one_open_case_per_subject_holds_under_a_bare_create(moderator: User) -> None:
    case = report_user(person(30), reporter=person(40)).case
    fields = {
        f.name: getattr(case, f.name) for f in Case._meta.concrete_fields if not f.primary_key
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(**fields)


def test_a_second_appeal_is_refused_by_the_database_too(decision: Decision) -> None:
    Appeal.objects.create(
        decision=decision, appellant=decision.target_user, kind="decision", statement="x",
        filed_at=clock.now(),
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(
            decision=decision, appellant=decision.target_user, kind="decision", statement="y",
            filed_at=clock.now(),
        )  # fmt: skip


def test_an_anonymous_report_outside_child_protection_is_refused_by_the_database() -> None:
    case = report_user(person(30), reporter=person(40)).case
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(
            case=case, reporter_kind="anonymous", subject_type="user",
            subject_user=case.subject_user, category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            source_type="SOURCE_ARTICLE_16", created_at=clock.now(),
        )  # fmt: skip


def test_a_half_claim_is_refused_by_the_database(moderator: User) -> None:
    case = report_user(person(30), reporter=person(40)).case
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(claimed_by=moderator)
