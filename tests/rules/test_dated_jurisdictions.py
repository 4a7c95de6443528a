"""The dated jurisdiction rules of POLICY.md §7.1 and §7.2: each row answers "as of a date".

Each test is named after the POLICY.md row it proves. Proposed rows are off until a date is set;
the tests that show what they do once dated pass a copy of the table with that date filled in, so
they prove the rule's shape without pretending the law has passed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from safety_portal.rules import ages, jurisdictions
from safety_portal.rules.assurance import AssuranceResult
from safety_portal.rules.capabilities import UserFacts, capabilities
from safety_portal.rules.jurisdictions import (
    TABLE,
    AgeBand,
    JurisdictionRule,
    RuleName,
    RuleStatus,
    RuleTableError,
    check_table,
)
from safety_portal.rules.vocabulary import AccountStatus, AssuranceMethod, Reason
from tests.dates import born

AU_START = dt.date(2025, 12, 10)


def _dated(country: str, on: dt.date) -> tuple[JurisdictionRule, ...]:
    """The table with `country`'s proposed rows given the date `on` (as if the law passed)."""
    return tuple(
        dataclasses.replace(r, effective_from=on, status=RuleStatus.ADOPTED)
        if r.country == country and r.status is RuleStatus.PROPOSED
        else r
        for r in TABLE
    )


# --- §7.1 minimum age to hold an account --------------------------------------------------------


def test_minimum_age_default_13_applies_on_every_date() -> None:
    for on in (dt.date(2000, 1, 1), dt.date(2026, 12, 6), dt.date(2040, 1, 1)):
        assert jurisdictions.minimum_age("GB", on=on) == 13


def test_australia_minimum_age_16_is_in_force_from_10_december_2025() -> None:
    assert jurisdictions.minimum_age("AU", on=AU_START - dt.timedelta(days=1)) == 13
    assert jurisdictions.minimum_age("AU", on=AU_START) == 16


def test_a_14_year_old_australian_could_hold_an_account_on_9_december_2025_but_not_on_the_10th() -> (
    None
):
    birthdate = born(14, on=AU_START)
    assert not ages.is_below_minimum_age(birthdate, "AU", AU_START - dt.timedelta(days=1))
    assert ages.is_below_minimum_age(birthdate, "AU", AU_START)
    hold = capabilities(UserFacts(birthdate=birthdate, country="AU"), on=AU_START)["hold_account"]
    assert (hold.allowed, hold.value, hold.reason) == (
        False,
        AccountStatus.UNDER_AGE_REVIEW,
        Reason.UNDER_MINIMUM_AGE,
    )


@pytest.mark.parametrize("country", ["FR", "DK"])
def test_france_and_denmark_minimum_age_15_is_proposed_and_off_until_a_date_is_set(
    country: str,
) -> None:
    on = dt.date(2030, 1, 1)
    assert jurisdictions.minimum_age(country, on=on) == 13
    assert jurisdictions.guardian_consent_band(country, on=on) is None
    proposed = {r.name for r in jurisdictions.proposed_without_date(country=country)}
    assert proposed == {RuleName.MINIMUM_AGE, RuleName.GUARDIAN_CONSENT_BAND}


@pytest.mark.parametrize("country", ["FR", "DK"])
def test_france_and_denmark_minimum_age_15_applies_from_the_date_it_is_given(country: str) -> None:
    start = dt.date(2027, 9, 1)
    table = _dated(country, start)
    assert jurisdictions.minimum_age(country, on=start - dt.timedelta(days=1), table=table) == 13
    assert jurisdictions.minimum_age(country, on=start, table=table) == 15
    assert jurisdictions.guardian_consent_band(country, on=start, table=table) == AgeBand(13, 14)
    assert jurisdictions.account_floor_age(country, on=start, table=table) == 13


def _over(age: int, *, on: dt.date) -> AssuranceResult:
    return AssuranceResult(AssuranceMethod.AGE_TOKEN, on, over_age=age, is_over=True)


def test_guardian_consent_band_a_french_14_year_old_without_consent_goes_to_under_age_review() -> (
    None
):
    start = dt.date(2027, 9, 1)
    table = _dated("FR", start)
    teen = UserFacts(birthdate=born(14, on=start), country="FR")
    caps = capabilities(teen, on=start, table=table)
    assert (caps["hold_account"].allowed, caps["hold_account"].value) == (
        False,
        AccountStatus.UNDER_AGE_REVIEW,
    )
    assert caps["hold_account"].reason is Reason.GUARDIAN_CONSENT_REQUIRED
    assert caps["comments"].reason is Reason.GUARDIAN_CONSENT_REQUIRED


def test_guardian_consent_band_a_french_14_year_old_with_a_guardians_consent_holds_the_account() -> (
    None
):
    start = dt.date(2027, 9, 1)
    table = _dated("FR", start)
    teen = UserFacts(
        birthdate=born(14, on=start),
        country="FR",
        guardian_consent=True,
        assurance=(_over(13, on=start),),  # §7.2: a minimum age above 13 asks for assurance
    )
    assert capabilities(teen, on=start, table=table)["hold_account"].allowed
    # ... and the same teen holds it without consent today: the proposal has no date.
    alone = UserFacts(birthdate=born(14, on=start), country="FR")
    assert capabilities(alone, on=start)["hold_account"].allowed


def test_guardian_consent_band_a_french_12_year_old_is_below_the_minimum_even_with_consent() -> (
    None
):
    start = dt.date(2027, 9, 1)
    child = UserFacts(birthdate=born(12, on=start), country="FR", guardian_consent=True)
    hold = capabilities(child, on=start, table=_dated("FR", start))["hold_account"]
    assert hold.reason is Reason.UNDER_MINIMUM_AGE


def test_guardian_consent_band_a_french_15_year_old_needs_no_consent() -> None:
    start = dt.date(2027, 9, 1)
    teen = UserFacts(birthdate=born(15, on=start), country="FR", assurance=(_over(15, on=start),))
    assert capabilities(teen, on=start, table=_dated("FR", start))["hold_account"].allowed
    assert not ages.needs_guardian_consent_to_hold(teen.birthdate, "FR", start)


def test_account_floor_ages_for_sql_list_only_countries_that_differ_from_the_default() -> None:
    assert jurisdictions.account_floor_ages(on=AU_START - dt.timedelta(days=1)) == (13, {})
    assert jurisdictions.account_floor_ages(on=AU_START) == (13, {"AU": 16})


# --- §7.2 app-store age signals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "start"),
    [
        ("US-UT", dt.date(2026, 5, 7)),
        ("US-LA", dt.date(2026, 7, 1)),
        ("US-CA", dt.date(2027, 1, 1)),
    ],
)
def test_app_store_age_signal_laws_apply_from_their_dates(region: str, start: dt.date) -> None:
    def regions(on: dt.date) -> set[str | None]:
        return {
            r.region
            for r in jurisdictions.rules_in_force("US", on=on)
            if r.name is RuleName.APP_STORE_AGE_SIGNAL
        }

    assert region not in regions(start - dt.timedelta(days=1))
    assert region in regions(start)


# --- asking the table ---------------------------------------------------------------------------


def test_rules_in_force_in_france_name_each_rule_once_with_its_source() -> None:
    rows = jurisdictions.rules_in_force("FR", on=dt.date(2026, 9, 1))
    assert {r.name: r.value for r in rows} == {
        RuleName.MINIMUM_AGE: 13,
        RuleName.DIGITAL_CONSENT_AGE: 15,
        RuleName.GIFT_MINIMUM_AGE: 18,
        RuleName.PERSONALISED_ADS_MINIMUM_AGE: 18,
    }
    assert all(r.source for r in rows)


def test_the_changes_in_the_next_90_days_from_6_december_2026_are_californias_signal_law() -> None:
    today = dt.date(2026, 12, 6)
    changes = jurisdictions.changes_between(today, today + dt.timedelta(days=90))
    assert [(c.on, c.rule.where, c.starts) for c in changes] == [
        (dt.date(2027, 1, 1), "US-CA", True)
    ]
    assert jurisdictions.changes_between(today, today + dt.timedelta(days=90), country="FR") == []


def test_a_row_with_an_end_date_stops_applying_on_that_day_and_the_default_returns() -> None:
    end = dt.date(2030, 1, 1)
    table = tuple(
        dataclasses.replace(r, effective_to=end)
        if (r.name, r.country) == ("minimum_age", "AU")
        else r
        for r in TABLE
    )
    check_table(table)
    assert jurisdictions.minimum_age("AU", on=end - dt.timedelta(days=1), table=table) == 16
    assert jurisdictions.minimum_age("AU", on=end, table=table) == 13
    change = jurisdictions.changes_between(dt.date(2029, 12, 1), end, country="AU", table=table)
    assert [(c.on, c.starts) for c in change] == [(end, False)]


# --- the schema check ---------------------------------------------------------------------------

_ROW = JurisdictionRule(RuleName.MINIMUM_AGE, 14, RuleStatus.IN_FORCE, "A law.", country="NZ")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (dataclasses.replace(_ROW, source=" "), "source"),
        (dataclasses.replace(_ROW, value="14"), "value"),
        (dataclasses.replace(_ROW, country="nz"), "upper-case"),
        (dataclasses.replace(_ROW, region="AU-NSW"), "region"),
        (dataclasses.replace(_ROW, status=RuleStatus.ADOPTED), "date"),
        (
            dataclasses.replace(
                _ROW, effective_from=dt.date(2027, 1, 1), effective_to=dt.date(2026, 1, 1)
            ),
            "after",
        ),
        (dataclasses.replace(_ROW, country="AU"), "same day"),
        (dataclasses.replace(_ROW, scope=frozenset({"NZ"})), "scope"),
    ],
)
def test_a_malformed_rule_row_stops_the_table_from_loading(
    row: JurisdictionRule, message: str
) -> None:
    with pytest.raises(RuleTableError, match=message):
        check_table((*TABLE, row))


def test_the_table_without_an_open_ended_default_minimum_age_is_refused() -> None:
    without = tuple(r for r in TABLE if (r.name, r.country) != ("minimum_age", None))
    with pytest.raises(RuleTableError, match="open-ended default"):
        check_table(without)


def test_the_repositorys_table_passes_its_schema_check() -> None:
    assert check_table(TABLE) == TABLE
