"""Property test for time (issue 11.6, POLICY.md §7.3): accounts made before Australia's minimum age
of 16 took effect, the daily sweep run on a random day of its catch-up week, then the under-age
closure after the windows: no account below the minimum age is active past its window."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine

from accounts import minimum_age_sweep as sweeps
from accounts.models import User
from moderation.actions.under_age_closure import close_expired_reviews
from safety_portal import rules
from safety_portal.core.audit.actors import SystemActor
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests.sweep_over_time")
AU_START = dt.date(2025, 12, 10)


def noon(day: dt.date) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_no_account_below_the_minimum_age_stays_active_past_its_window(seed: int) -> None:
    rng = random.Random(seed)
    made_on = AU_START - dt.timedelta(days=rng.randint(1, 400))
    with noon(made_on):
        people = [
            AppUserFactory(
                birthdate=rules.ages.latest_birthdate_for_age(rng.randint(13, 19), made_on)
                - dt.timedelta(days=rng.randrange(365)),
                country=rng.choice(["AU", "AU", "AU", "GB", "FR"]),
            )
            for _ in range(24)
        ]
    # the daily job looks back over today and the CATCH_UP_DAYS - 1 days before it
    swept_on = AU_START + dt.timedelta(days=rng.randrange(sweeps.CATCH_UP_DAYS))
    with noon(swept_on):
        sweeps.run_due(actor=ACTOR)
    for person in User.objects.filter(pk__in=[p.pk for p in people]):
        below = rules.ages.is_below_minimum_age(person.birthdate, str(person.country), swept_on)
        assert (person.status == "under_age_review") == below, (person.country, person.birthdate)

    after_windows = rules.minimum_age.review_windows(swept_on).deactivate_on
    with noon(after_windows):
        close_expired_reviews(actor=ACTOR)
        for person in User.objects.filter(pk__in=[p.pk for p in people]):
            if person.birthdate and rules.ages.is_below_minimum_age(
                person.birthdate, str(person.country), after_windows
            ):
                assert person.status not in ("active", "under_age_review"), person.pk
