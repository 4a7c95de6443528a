"""Property tests for time (issue 11.6): for random birthdates, countries and dates, with France
and Denmark's proposed minimum age given random dates, an account never holds a capability that the
rules in force on that date refuse."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from safety_portal.rules import ages, jurisdictions
from safety_portal.rules.capabilities import UserFacts, capabilities
from safety_portal.rules.jurisdictions import TABLE, RuleStatus
from safety_portal.rules.vocabulary import Reason

COUNTRIES = ["AU", "FR", "DK", "GB", "US", "DE", "KR", "IE"]
# Protections are reported with their values even under lock-down; they open nothing to anyone.
PROTECTIONS = {"quiet_hours", "daily_screen_time_limit", "non_profiling_feed", "private_account"}


def _table(fr_from: dt.date | None, dk_from: dt.date | None) -> tuple:
    dates = {"FR": fr_from, "DK": dk_from}
    return tuple(
        dataclasses.replace(r, effective_from=dates[r.country], status=RuleStatus.ADOPTED)
        if r.country in dates and dates[r.country] and r.status is RuleStatus.PROPOSED
        else r
        for r in TABLE
    )


dates = st.dates(dt.date(2025, 1, 1), dt.date(2029, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    birthdate=st.dates(dt.date(2004, 1, 1), dt.date(2016, 12, 31)),
    country=st.sampled_from(COUNTRIES),
    on=dates,
    fr_from=st.none() | dates,
    dk_from=st.none() | dates,
    consent=st.booleans(),
)
def test_no_account_holds_a_capability_the_rules_in_force_that_day_refuse(
    birthdate: dt.date,
    country: str,
    on: dt.date,
    fr_from: dt.date | None,
    dk_from: dt.date | None,
    consent: bool,
) -> None:
    table = _table(fr_from, dk_from)
    facts = UserFacts(birthdate=birthdate, country=country, guardian_consent=consent)
    caps = capabilities(facts, on=on, table=table)
    age = ages.age_on(birthdate, on)
    floor = jurisdictions.account_floor_age(country, on=on, table=table)
    opened = {name for name, cap in caps.items() if cap.allowed and name not in PROTECTIONS}
    if age < floor:
        # below the minimum age in force that day: nothing but the protections
        assert not caps["hold_account"].allowed
        assert caps["hold_account"].reason == Reason.UNDER_MINIMUM_AGE
        assert opened == set()
    if age < ages.DM_MINIMUM_AGE:
        assert not caps["direct_messages"].allowed
        assert not caps["group_threads"].allowed
    if age < ages.ADULT_AGE:
        assert not caps["downloads"].allowed  # POLICY.md §7.4: off for every minor
    if caps["hold_account"].allowed:
        assert age >= floor
