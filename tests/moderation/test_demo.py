"""The moderation demo data: a real day's work, and safe to seed twice."""

from __future__ import annotations

import importlib.util
import io
import random

import pytest
from django.core.management.color import no_style

from moderation.models import Appeal, Case, Decision, Flag, Report, StatementOfReasons
from safety_portal.core.demo import DemoContext
from safety_portal.rules.sor_schema import validate_statement

pytestmark = pytest.mark.django_db


def seed_everything() -> None:
    ctx = DemoContext(rng=random.Random(20261129), out=io.StringIO(), style=no_style())
    for name in ("accounts.demo", "messaging.demo", "moderation.demo"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).seed(ctx)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Case, Report, Decision, Appeal, Flag, StatementOfReasons)
    )


def test_the_demo_shows_a_real_days_work_and_seeding_twice_adds_nothing() -> None:
    seed_everything()
    first = counts()
    open_cases = Case.objects.open()
    assert set(open_cases.values_list("priority", flat=True)) == {1, 2, 3, 4}
    assert open_cases.overdue().exists()
    assert open_cases.involving_minors().exists()
    assert open_cases.filter(trusted_flagger=True).exists()
    assert open_cases.escalated().exists()
    assert Case.objects.decided().exists()
    assert set(Appeal.objects.values_list("status", flat=True)) >= {"pending", "overturned"}
    assert set(Flag.objects.open().values_list("kind", flat=True)) == {"age", "contact_risk"}
    statements = list(StatementOfReasons.objects.values_list("payload", flat=True))
    assert statements
    assert all(validate_statement(payload) == [] for payload in statements)

    seed_everything()
    assert counts() == first
