"""Age, tiers, jurisdictions and birthdate changes (POLICY.md §1, §2, §4). No database, no Django."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from safety_portal import rules
from safety_portal.rules.ages import InvalidBirthdate
from safety_portal.rules.birthdates import BirthdateChange
from safety_portal.rules.vocabulary import AssuranceMethod, Reason, Tier

FAST = settings(max_examples=300, deadline=None)

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))
# (birthdate, on) with the birthdate not after the reference date.
born_and_on = st.tuples(dates, dates).map(sorted).map(tuple)
ages = st.integers(min_value=0, max_value=130)
LEAP_DAY_2008 = dt.date(2008, 2, 29)


def reference_age(born: dt.date, on: dt.date) -> int:
    """The textbook formula. Comparing (month, day) puts a 29 February birthday after 28 February
    and before 1 March, so in a non-leap year it is reached on 1 March: exactly POLICY.md §1."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- age_on ---------------------------------------------------------------------------------------


@FAST
@given(born_and_on)
@example((LEAP_DAY_2008, dt.date(2009, 2, 28)))
@example((LEAP_DAY_2008, dt.date(2009, 3, 1)))
@example((dt.date(1999, 12, 31), dt.date(2000, 1, 1)))
@example((dt.date(2000, 1, 1), dt.date(2000, 12, 31)))
def test_age_matches_the_naive_reference(pair: tuple[dt.date, dt.date]) -> None:
    born, on = pair
    assert rules.ages.age_on(born, on) == reference_age(born, on)


@FAST
@given(dates.filter(lambda d: d.year <= 2000), st.integers(min_value=1, max_value=29))
def test_a_year_is_added_on_the_birthday_itself_and_not_the_day_before(
    born: dt.date, n: int
) -> None:
    birthday = rules.ages.nth_birthday(born, n)
    assert rules.ages.age_on(born, birthday) == n
    assert rules.ages.age_on(born, birthday - dt.timedelta(days=1)) == n - 1


def test_someone_born_today_is_zero() -> None:
    assert rules.ages.age_on(dt.date(2024, 5, 1), dt.date(2024, 5, 1)) == 0


def test_leap_day_baby_turns_older_on_1_march_in_a_non_leap_year() -> None:
    assert rules.ages.age_on(LEAP_DAY_2008, dt.date(2025, 2, 28)) == 16
    assert rules.ages.age_on(LEAP_DAY_2008, dt.date(2025, 3, 1)) == 17
    assert rules.ages.nth_birthday(LEAP_DAY_2008, 17) == dt.date(2025, 3, 1)


def test_leap_day_baby_turns_older_on_29_february_in_a_leap_year() -> None:
    assert rules.ages.age_on(LEAP_DAY_2008, dt.date(2024, 2, 28)) == 15
    assert rules.ages.age_on(LEAP_DAY_2008, dt.date(2024, 2, 29)) == 16
    assert rules.ages.nth_birthday(LEAP_DAY_2008, 16) == dt.date(2024, 2, 29)


def test_leap_day_baby_is_not_eighteen_on_28_february_of_a_non_leap_year() -> None:
    # The protection lasts the extra day (POLICY.md §1: the later date).
    assert rules.ages.is_minor(dt.date(2008, 2, 29), dt.date(2026, 2, 28))
    assert not rules.ages.is_minor(dt.date(2008, 2, 29), dt.date(2026, 3, 1))


def test_new_years_eve_baby_is_a_year_older_on_31_december_not_the_day_before() -> None:
    born = dt.date(2009, 12, 31)
    assert rules.ages.age_on(born, dt.date(2025, 12, 30)) == 15
    assert rules.ages.age_on(born, dt.date(2025, 12, 31)) == 16
    assert rules.ages.age_on(born, dt.date(2026, 1, 1)) == 16


def test_new_years_day_baby_is_a_year_older_on_1_january_not_31_december() -> None:
    born = dt.date(2010, 1, 1)
    assert rules.ages.age_on(born, dt.date(2025, 12, 31)) == 15
    assert rules.ages.age_on(born, dt.date(2026, 1, 1)) == 16


def test_age_of_someone_not_yet_born_is_an_invalid_birthdate() -> None:
    with pytest.raises(InvalidBirthdate) as error:
        rules.ages.age_on(dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    assert error.value.code == "future"


# --- latest_birthdate_for_age: the SQL cut-off --------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(ages, dates, dates)
@example(18, dt.date(2024, 2, 29), dt.date(2006, 2, 28))  # leap "on", non-leap birth year
@example(16, dt.date(2025, 2, 28), dt.date(2009, 2, 28))
@example(17, dt.date(2025, 2, 28), LEAP_DAY_2008)  # not 17 until 1 March
@example(16, dt.date(2024, 2, 29), LEAP_DAY_2008)
@example(0, dt.date(2024, 1, 1), dt.date(2024, 1, 1))
def test_cutoff_selects_exactly_the_people_at_least_that_old(
    age: int, on: dt.date, born: dt.date
) -> None:
    cutoff = rules.ages.latest_birthdate_for_age(age, on)
    if born > on:  # not yet born: younger than every age, and after every cut-off
        assert born > cutoff
        return
    assert (born <= cutoff) == (rules.ages.age_on(born, on) >= age)


@settings(max_examples=500, deadline=None)
@given(ages, dates)
@example(18, dt.date(2024, 2, 29))
@example(17, dt.date(2025, 2, 28))
@example(16, dt.date(2025, 3, 1))
def test_cutoff_is_the_boundary_day_itself(age: int, on: dt.date) -> None:
    cutoff = rules.ages.latest_birthdate_for_age(age, on)
    assert rules.ages.age_on(cutoff, on) >= age
    day_after = cutoff + dt.timedelta(days=1)
    if day_after <= on:
        assert rules.ages.age_on(day_after, on) < age


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([13, 16, 18]), dates, dates)
@example(16, dt.date(2025, 3, 1), LEAP_DAY_2008)  # a 29 February birth turns 16 on 1 March
@example(16, dt.date(2024, 2, 29), LEAP_DAY_2008)
@example(17, dt.date(2025, 2, 28), LEAP_DAY_2008)  # not yet: 1 March is the day
def test_birthdates_turning_are_exactly_the_people_whose_birthday_it_is(
    age: int, on: dt.date, born: dt.date
) -> None:
    after, upto = rules.ages.birthdates_turning(age, on)
    yesterday = on - dt.timedelta(days=1)
    crossing = born <= yesterday and (
        rules.ages.age_on(born, on) == age and rules.ages.age_on(born, yesterday) == age - 1
    )
    assert (after < born <= upto) == crossing


def test_cutoff_agrees_with_age_on_for_every_day_around_leap_days_and_new_year() -> None:
    """Exhaustive, not sampled: every reference day from mid-February to mid-March and around New
    Year in a leap year and its neighbours, every age to 20, every birthdate near the cut-off."""
    days = []
    for year in (2023, 2024, 2025):
        start = dt.date(year, 2, 15)
        days += [start + dt.timedelta(days=i) for i in range(30)]
        new_year = dt.date(year, 1, 1)
        days += [new_year + dt.timedelta(days=i) for i in range(-3, 3)]
    for on in days:
        for age in range(21):
            cutoff = rules.ages.latest_birthdate_for_age(age, on)
            for delta in range(-3, 4):
                born = cutoff + dt.timedelta(days=delta)
                if born > on:
                    continue
                assert (born <= cutoff) == (reference_age(born, on) >= age), (on, age, born)


def test_cutoff_on_29_february_for_a_non_leap_birth_year_is_28_february() -> None:
    assert rules.ages.latest_birthdate_for_age(18, dt.date(2024, 2, 29)) == dt.date(2006, 2, 28)
    assert rules.ages.latest_birthdate_for_age(16, dt.date(2024, 2, 29)) == dt.date(2008, 2, 29)


def test_cutoff_rejects_a_negative_age() -> None:
    with pytest.raises(ValueError, match="age"):
        rules.ages.latest_birthdate_for_age(-1, dt.date(2024, 1, 1))


# --- tiers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "tier"),
    [
        (0, Tier.CHILD),
        (12, Tier.CHILD),
        (13, Tier.YOUNG_TEEN),
        (15, Tier.YOUNG_TEEN),
        (16, Tier.OLDER_TEEN),
        (17, Tier.OLDER_TEEN),
        (18, Tier.ADULT),
        (120, Tier.ADULT),
    ],
)
def test_tier_boundaries_are_13_16_and_18(age: int, tier: Tier) -> None:
    assert rules.ages.tier_for_age(age) is tier


@FAST
@given(born_and_on)
def test_tier_on_and_is_minor_follow_the_reference_age(pair: tuple[dt.date, dt.date]) -> None:
    born, on = pair
    age = reference_age(born, on)
    expected = (
        Tier.CHILD
        if age < 13
        else Tier.YOUNG_TEEN
        if age < 16
        else Tier.OLDER_TEEN
        if age < 18
        else Tier.ADULT
    )
    assert rules.ages.tier_on(born, on) is expected
    assert rules.ages.is_minor(born, on) == (age < 18)


def test_tiers_order_by_age_not_alphabetically() -> None:
    assert Tier.CHILD < Tier.YOUNG_TEEN < Tier.OLDER_TEEN < Tier.ADULT
    assert sorted(Tier) == [Tier.CHILD, Tier.YOUNG_TEEN, Tier.OLDER_TEEN, Tier.ADULT]


# --- birthdate validation ----------------------------------------------------------------------


def test_a_future_birthdate_is_invalid() -> None:
    with pytest.raises(InvalidBirthdate) as error:
        rules.ages.validate_birthdate(dt.date(2026, 6, 2), on=dt.date(2026, 6, 1))
    assert error.value.code == "future"


def test_a_birthdate_before_1900_is_invalid() -> None:
    with pytest.raises(InvalidBirthdate) as error:
        rules.ages.validate_birthdate(dt.date(1899, 12, 31), on=dt.date(2026, 6, 1))
    assert error.value.code == "before_1900"


def test_1_january_1900_and_today_are_valid_birthdates() -> None:
    rules.ages.validate_birthdate(dt.date(1900, 1, 1), on=dt.date(2026, 6, 1))
    rules.ages.validate_birthdate(dt.date(2026, 6, 1), on=dt.date(2026, 6, 1))


def test_invalid_birthdate_is_a_value_error() -> None:
    assert issubclass(InvalidBirthdate, ValueError)


# --- jurisdictions (POLICY.md §2) -----------------------------------------------------------------


ON = dt.date(2026, 6, 1)


def test_thirteen_year_old_in_britain_is_old_enough_for_an_account() -> None:
    assert not rules.ages.is_below_minimum_age(dt.date(2013, 6, 1), "GB", ON)
    assert rules.ages.is_below_minimum_age(dt.date(2013, 6, 2), "GB", ON)


def test_fifteen_year_old_in_australia_is_below_the_minimum_age() -> None:
    assert rules.ages.is_below_minimum_age(dt.date(2010, 6, 2), "AU", ON)
    assert not rules.ages.is_below_minimum_age(dt.date(2010, 6, 1), "AU", ON)


def test_lower_case_country_codes_get_their_own_rules_not_the_default() -> None:
    assert rules.jurisdictions.minimum_age("au", on=ON) == 16
    assert rules.jurisdictions.gift_minimum_age("kr", on=ON) == 19


@pytest.mark.parametrize("code", ["", "A", "GBR", "G1", "É1"])
def test_country_codes_must_be_two_letters(code: str) -> None:
    with pytest.raises(ValueError, match="alpha-2"):
        rules.jurisdictions.minimum_age(code, on=ON)


@pytest.mark.parametrize(
    ("country", "age"),
    [
        *[("GB", 13), ("BE", 13), ("NO", 13), ("AT", 14), ("ES", 14), ("FR", 15), ("GR", 15)],
        *[("DE", 16), ("IE", 16), ("LI", 16), ("US", None), ("AU", None), ("KR", None)],
    ],
)
def test_digital_consent_age_by_country(country: str, age: int | None) -> None:
    assert rules.jurisdictions.digital_consent_age(country, on=ON) == age


def test_every_eu_eea_country_has_a_digital_consent_age_and_it_is_13_to_16() -> None:
    assert len(rules.jurisdictions.EU_EEA_COUNTRIES) == 30
    for country in rules.jurisdictions.EU_EEA_COUNTRIES:
        age = rules.jurisdictions.digital_consent_age(country, on=ON)
        assert age is not None
        assert 13 <= age <= 16


def test_an_eu_country_without_a_row_of_its_own_would_get_16() -> None:
    rule = rules.jurisdictions.rule_on(
        rules.jurisdictions.RuleName.DIGITAL_CONSENT_AGE, "FR", on=ON, table=_without("FR")
    )
    assert rule is not None
    assert rule.country is None
    assert rule.value == 16
    assert rule.scope == rules.jurisdictions.EU_EEA_COUNTRIES


def _without(country: str) -> tuple[rules.jurisdictions.JurisdictionRule, ...]:
    return tuple(r for r in rules.jurisdictions.TABLE if r.country != country)


def test_the_only_listed_consent_age_outside_the_eu_eea_is_britain() -> None:
    listed = {
        r.country
        for r in rules.jurisdictions.TABLE
        if r.name is rules.jurisdictions.RuleName.DIGITAL_CONSENT_AGE and r.country
    }
    assert listed - rules.jurisdictions.EU_EEA_COUNTRIES == {"GB"}


def test_gift_age_is_18_and_19_in_korea() -> None:
    assert rules.jurisdictions.gift_minimum_age("GB", on=ON) == 18
    assert rules.jurisdictions.gift_minimum_age("KR", on=ON) == 19


def test_every_jurisdiction_rule_names_its_source() -> None:
    for rule in rules.jurisdictions.TABLE:
        assert rule.source.strip(), rule.name
        assert rule.country is None or rule.country == rule.country.upper()


def test_every_minimum_age_is_at_most_16_so_under_16_covers_everyone_below_it() -> None:
    # can_direct_message relies on this for its reason precedence (POLICY.md §3).
    every_minimum = [
        r.value
        for r in rules.jurisdictions.TABLE
        if r.name is rules.jurisdictions.RuleName.MINIMUM_AGE
    ]
    assert max(every_minimum) <= rules.ages.DM_MINIMUM_AGE  # type: ignore[type-var]


# --- birthdate changes (POLICY.md §4) ---------------------------------------------------------------

OLD = dt.date(2009, 5, 5)
ON_REQUEST = dt.date(2026, 6, 1)  # OLD is 17 that day, the older date 19: across 18


def test_a_change_that_makes_the_user_younger_takes_effect_at_once() -> None:
    kind, decision = rules.birthdates.classify_birthdate_change(
        OLD, dt.date(2011, 5, 5), method=AssuranceMethod.SELF_DECLARED, on=ON_REQUEST
    )
    assert kind is BirthdateChange.YOUNGER
    assert decision.allowed


def test_a_self_declared_change_that_makes_the_user_older_is_refused_as_too_weak() -> None:
    kind, decision = rules.birthdates.classify_birthdate_change(
        OLD, dt.date(2007, 5, 5), method=AssuranceMethod.SELF_DECLARED, on=ON_REQUEST
    )
    assert kind is BirthdateChange.OLDER
    assert decision.reason is Reason.METHOD_TOO_WEAK


@pytest.mark.parametrize(
    "method",
    [
        AssuranceMethod.ID_DOCUMENT,
        AssuranceMethod.FACIAL_ESTIMATION,
        AssuranceMethod.PAYMENT_CARD,
        AssuranceMethod.GUARDIAN_VOUCH,
    ],
)
def test_a_change_that_makes_the_user_older_with_stronger_assurance_may_go_to_review(
    method: AssuranceMethod,
) -> None:
    kind, decision = rules.birthdates.classify_birthdate_change(
        OLD, dt.date(2007, 5, 5), method=method, on=ON_REQUEST
    )
    assert kind is BirthdateChange.OLDER
    assert decision.allowed


def test_the_same_birthdate_is_refused_as_unchanged() -> None:
    kind, decision = rules.birthdates.classify_birthdate_change(
        OLD, OLD, method=AssuranceMethod.ID_DOCUMENT, on=ON_REQUEST
    )
    assert kind is BirthdateChange.UNCHANGED
    assert decision.reason is Reason.BIRTHDATE_UNCHANGED


@FAST
@given(dates, dates, st.sampled_from(AssuranceMethod))
def test_birthdate_change_direction_and_decision_follow_the_dates(
    old: dt.date, new: dt.date, method: AssuranceMethod
) -> None:
    on = dt.date(2031, 1, 1)
    kind, decision = rules.birthdates.classify_birthdate_change(old, new, method=method, on=on)
    if new > old:
        assert (kind, decision.allowed) == (BirthdateChange.YOUNGER, True)
    elif new < old:
        assert kind is BirthdateChange.OLDER
        old_age, new_age = rules.ages.age_on(old, on), rules.ages.age_on(new, on)
        crosses = any(old_age < limit <= new_age for limit in (16, 18))
        weakest = (
            {AssuranceMethod.SELF_DECLARED, AssuranceMethod.APP_STORE_SIGNAL}
            if crosses
            else {AssuranceMethod.SELF_DECLARED}
        )
        assert decision.allowed == (method not in weakest)
    else:
        assert (kind, decision.reason) == (BirthdateChange.UNCHANGED, Reason.BIRTHDATE_UNCHANGED)


def test_a_decision_carries_a_reason_exactly_when_it_refuses() -> None:
    assert rules.vocabulary.Decision.allow() == rules.vocabulary.Decision(allowed=True)
    assert rules.vocabulary.Decision.refuse(Reason.DM_BLOCKED).reason is Reason.DM_BLOCKED
    with pytest.raises(ValueError, match="reason"):
        rules.vocabulary.Decision(allowed=False)
    with pytest.raises(ValueError, match="reason"):
        rules.vocabulary.Decision(allowed=True, reason=Reason.DM_BLOCKED)
