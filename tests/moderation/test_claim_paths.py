"""`claim_next` has two ways to the same claim: one statement on PostgreSQL, two ORM statements on
SQLite (the demo). They must pick the same case, write the same fields and return the same object."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction

from accounts.models import User
from moderation.managers import cases as case_writes
from moderation.models import Case
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.messaging import person
from tests.factories.moderation import CSAM, MINORS, SCAM, claimed, report_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the one-statement claim is PostgreSQL's path"
    ),
]


class _Undo(Exception):
    """Raised to roll a savepoint back after reading what a claim did."""


def _claim_then_undo(claim: object) -> tuple[dict[str, object], int | None] | None:
    outcome: list[tuple[dict[str, object], int | None] | None] = []
    try:
        with transaction.atomic():
            result = claim()  # type: ignore[operator]
            if result is None:
                outcome.append(None)
            else:
                case, previous = result
                stored = Case.objects.get(pk=case.pk)
                fields = [f.attname for f in Case._meta.concrete_fields]
                returned = {name: getattr(case, name) for name in fields}
                assert returned == {name: getattr(stored, name) for name in fields}
                outcome.append((returned, previous))
            raise _Undo
    except _Undo:
        pass
    return outcome[0]


def _both_paths(queue: str, actor: User) -> tuple[object, object]:
    now = clock.now()
    senior = actor.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
    one_statement = _claim_then_undo(
        lambda: case_writes._claim_in_one_statement(Case, queue, senior, actor, now)
    )
    through_orm = _claim_then_undo(lambda: Case.objects._claim_through_orm(queue, actor, now))
    return one_statement, through_orm


@pytest.mark.parametrize("queue", ["all", "general", "minors", "trusted_flagger", "senior"])
def test_both_claim_paths_take_the_same_case_with_the_same_fields(
    queue: str, moderator: User, senior: User
) -> None:
    report_user(person(30), reporter=person(40), category=SCAM)
    report_user(person(15), reporter=person(14), category=MINORS, keywords=[CSAM])
    idle = report_user(person(22), reporter=person(25), category=SCAM).case
    claimed(idle, moderator)
    escalated = report_user(person(19), reporter=person(16), category=MINORS).case
    Case.objects.escalate(claimed(escalated, senior), actor=senior, reason="needs a senior")
    with time_machine.travel(clock.now() + dt.timedelta(hours=1), tick=False):
        one_statement, through_orm = _both_paths(queue, senior)
    assert one_statement == through_orm
    if queue in ("all", "general", "minors"):
        assert one_statement is not None


def test_an_idle_claim_is_taken_over_and_its_holder_is_the_previous_one(
    moderator: User, senior: User
) -> None:
    idle = claimed(report_user(person(22), reporter=person(25), category=SCAM).case, moderator)
    with time_machine.travel(clock.now() + dt.timedelta(hours=1), tick=False):
        one_statement, through_orm = _both_paths("all", senior)
    assert one_statement == through_orm
    fields, previous = one_statement  # type: ignore[misc]
    assert fields["id"] == idle.pk
    assert previous == moderator.pk
    assert fields["claimed_by_id"] == senior.pk
