"""POLICY.md §7.2, the age-assurance ladder, as pure rules (no Django, the date an argument)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safety_portal.rules import assurance
from safety_portal.rules.assurance import (
    AgeRange,
    AssuranceResult,
    Direction,
    Protection,
    Strength,
)
from safety_portal.rules.birthdates import BirthdateChange, classify_birthdate_change
from safety_portal.rules.capabilities import UserFacts, capabilities
from safety_portal.rules.vocabulary import AssuranceMethod, Reason
from tests.dates import born

M = AssuranceMethod
ON = dt.date(2026, 12, 6)
FAST = settings(max_examples=300, deadline=None)


def estimate(value: float, on: dt.date = ON) -> AssuranceResult:
    return AssuranceResult(M.FACIAL_ESTIMATION, on, estimate=value)


def over(
    age: int, yes: bool = True, *, method: M = M.ID_DOCUMENT, on: dt.date = ON
) -> AssuranceResult:
    return AssuranceResult(method, on, over_age=age, is_over=yes)


def signal(age_range: AgeRange, region: str, on: dt.date = ON) -> AssuranceResult:
    return AssuranceResult(M.APP_STORE_SIGNAL, on, age_range=age_range, region=region)


# --- the ladder ------------------------------------------------------------------------------


def test_the_ladder_orders_methods_weakest_first_as_policy_7_2_lists_them() -> None:
    s = assurance.strength_of
    assert s(M.SELF_DECLARED) < s(M.APP_STORE_SIGNAL) < s(M.FACIAL_ESTIMATION) < s(M.ID_DOCUMENT)
    assert s(M.FACIAL_ESTIMATION) == s(M.PAYMENT_CARD) == s(M.GUARDIAN_VOUCH)
    assert s(M.ID_DOCUMENT) == s(M.AGE_TOKEN)
    assert set(assurance.methods_at_least(Strength.ID_DOCUMENT)) == {M.ID_DOCUMENT, M.AGE_TOKEN}


def test_an_app_store_signal_proves_an_age_range_an_estimate_a_value_a_document_an_over_n_bit() -> (
    None
):
    assert assurance.KIND_OF_METHOD[M.APP_STORE_SIGNAL] is assurance.ResultKind.AGE_RANGE
    assert assurance.KIND_OF_METHOD[M.FACIAL_ESTIMATION] is assurance.ResultKind.ESTIMATE
    assert assurance.KIND_OF_METHOD[M.ID_DOCUMENT] is assurance.ResultKind.OVER_AGE
    assert assurance.KIND_OF_METHOD[M.AGE_TOKEN] is assurance.ResultKind.OVER_AGE
    assert M.SELF_DECLARED not in assurance.KIND_OF_METHOD  # the birthdate itself, not a result


@pytest.mark.parametrize(
    ("method", "fields", "bad"),
    [
        ("retina_scan", {}, "method"),
        ("self_declared", {}, "method"),
        ("facial_estimation", {"estimate": 121}, "estimate"),
        ("facial_estimation", {"estimate": -1}, "estimate"),
        ("facial_estimation", {"estimate": float("nan")}, "estimate"),
        ("facial_estimation", {"estimate": 20, "over_age": 18, "is_over": True}, "over_age"),
        ("id_document", {"over_age": 0, "is_over": True}, "over_age"),
        ("id_document", {"over_age": 18}, "is_over"),
        ("app_store_signal", {"age_range": "12_14", "region": "US-UT"}, "age_range"),
        ("app_store_signal", {"age_range": "16_17"}, "region"),
        ("app_store_signal", {"age_range": "16_17", "region": "utah"}, "region"),
        ("age_token", {"over_age": 18, "is_over": True, "confidence": 1.5}, "confidence"),
    ],
)
def test_a_result_carries_only_what_its_method_proves_and_within_range(
    method: str, fields: dict[str, object], bad: str
) -> None:
    assert bad in assurance.result_errors(method, **fields)


# --- what a result proves --------------------------------------------------------------------


def test_facial_estimation_counts_only_with_a_two_year_buffer_above_the_threshold() -> None:
    assert not assurance.proves_age(estimate(17.9), 16, country="AU", on=ON)
    assert assurance.proves_age(estimate(18.0), 16, country="AU", on=ON)
    assert not assurance.proves_age(estimate(19.5), 18, country="GB", on=ON)
    assert assurance.proves_age(estimate(20.0), 18, country="GB", on=ON)


@FAST
@given(st.floats(min_value=0, max_value=120), st.integers(min_value=1, max_value=100))
def test_an_estimate_proves_a_threshold_exactly_when_it_is_two_years_above_it(
    value: float, threshold: int
) -> None:
    proves = assurance.proves_age(estimate(value), threshold, country="GB", on=ON)
    assert proves == (value - 2 >= threshold)


def test_an_app_store_signal_counts_only_where_and_from_when_the_state_law_applies() -> None:
    adult = AgeRange.ADULT
    utah_start, louisiana_start = dt.date(2026, 5, 7), dt.date(2026, 7, 1)
    california_start = dt.date(2027, 1, 1)
    day = dt.timedelta(days=1)
    assert assurance.proves_age(signal(adult, "US-UT", utah_start), 18, country="US", on=ON)
    assert not assurance.proves_age(
        signal(adult, "US-UT", utah_start - day), 18, country="US", on=ON
    )
    assert assurance.proves_age(signal(adult, "US-LA", louisiana_start), 18, country="US", on=ON)
    assert not assurance.proves_age(
        signal(adult, "US-LA", louisiana_start - day), 18, country="US", on=ON
    )
    later = dt.date(2027, 2, 1)
    assert not assurance.proves_age(signal(adult, "US-CA", ON), 18, country="US", on=ON)
    assert assurance.proves_age(
        signal(adult, "US-CA", california_start), 18, country="US", on=later
    )
    # A state without such a law, and a signal for an account in another country, prove nothing.
    assert not assurance.proves_age(signal(adult, "US-TX", ON), 18, country="US", on=ON)
    assert not assurance.proves_age(signal(adult, "US-UT", ON), 18, country="GB", on=ON)


def test_an_over_n_bit_proves_the_bit_and_the_years_since() -> None:
    token = over(18, method=M.AGE_TOKEN, on=dt.date(2024, 1, 1))
    assert assurance.proven_minimum_age(token, on=dt.date(2026, 1, 1)) == 20
    assert assurance.proven_minimum_age(over(18, yes=False), on=ON) is None
    assert assurance.proven_minimum_age(token, on=dt.date(2023, 12, 31)) is None  # not yet assured


# --- the purposes ----------------------------------------------------------------------------


def test_holding_an_account_where_the_minimum_age_is_above_13_needs_facial_estimation_or_stronger() -> (
    None
):
    requirement = assurance.hold_account_requirement("AU", age=17, on=ON)
    assert requirement is not None
    assert (requirement.strength, requirement.age, requirement.reason) == (
        Strength.FACIAL_ESTIMATION,
        16,
        Reason.ASSURANCE_REQUIRED,
    )
    assert assurance.hold_account_requirement("AU", age=17, on=dt.date(2025, 12, 9)) is None
    assert assurance.hold_account_requirement("GB", age=17, on=ON) is None
    assert assurance.hold_account_requirement("FR", age=17, on=ON) is None  # proposed, no date
    weak = [signal(AgeRange.FROM_16_TO_17, "US-UT")]
    assert assurance.missing_strength(weak, requirement, country="AU", on=ON) is (
        Strength.FACIAL_ESTIMATION
    )
    assert assurance.check([estimate(18.5)], requirement, country="AU", on=ON).allowed
    refused = assurance.check([estimate(17.5)], requirement, country="AU", on=ON)
    assert refused.reason is Reason.ASSURANCE_REQUIRED


def test_capabilities_say_hold_account_in_au_needs_facial_estimation_and_name_the_strength() -> (
    None
):
    seventeen = UserFacts(birthdate=born(17, on=ON), country="AU")
    hold = capabilities(seventeen, on=ON)["hold_account"]
    assert (hold.allowed, hold.reason, hold.required_strength) == (
        False,
        Reason.ASSURANCE_REQUIRED,
        Strength.FACIAL_ESTIMATION,
    )
    assert capabilities(seventeen, on=ON)["comments"].allowed  # §7.3's grace: nothing else shuts
    assured = UserFacts(birthdate=born(17, on=ON), country="AU", assurance=(estimate(18.2),))
    assert capabilities(assured, on=ON)["hold_account"].allowed


def test_unlocking_an_18_plus_feature_for_an_account_created_under_18_needs_id_document_or_age_token() -> (
    None
):
    birthdate = born(19, on=ON)
    created = dt.date(ON.year - 2, 1, 15)  # at 16 or 17
    facts = UserFacts(birthdate=birthdate, country="GB", created_on=created)
    caps = capabilities(facts, on=ON)
    for name in ("livestream", "gifts"):
        assert (caps[name].allowed, caps[name].reason, caps[name].required_strength) == (
            False,
            Reason.ASSURANCE_REQUIRED,
            Strength.ID_DOCUMENT,
        )
    card = UserFacts(
        birthdate=birthdate,
        country="GB",
        created_on=created,
        assurance=(over(18, method=M.PAYMENT_CARD),),
    )
    assert capabilities(card, on=ON)["livestream"].reason is Reason.ASSURANCE_REQUIRED
    verified = UserFacts(
        birthdate=birthdate, country="GB", created_on=created, assurance=(over(18),)
    )
    assert capabilities(verified, on=ON)["livestream"].allowed
    assert capabilities(verified, on=ON)["gifts"].allowed
    # Created as an adult: no assurance asked.
    adult = UserFacts(birthdate=birthdate, country="GB", created_on=dt.date(ON.year, 1, 1))
    assert capabilities(adult, on=ON)["livestream"].allowed


def test_gifts_in_korea_need_an_over_19_proof_for_an_account_created_under_18() -> None:
    facts = UserFacts(
        birthdate=born(20, on=ON),
        country="KR",
        created_on=dt.date(ON.year - 3, 1, 1),
        assurance=(over(18, on=dt.date(ON.year, 1, 1)),),
    )
    assert capabilities(facts, on=ON)["livestream"].allowed
    assert capabilities(facts, on=ON)["gifts"].reason is Reason.ASSURANCE_REQUIRED


def test_upward_correction_across_16_needs_facial_estimation_or_stronger() -> None:
    old, new = born(15, on=ON), born(16, on=ON)
    for method in (M.SELF_DECLARED, M.APP_STORE_SIGNAL):
        kind, decision = classify_birthdate_change(old, new, method=method, on=ON)
        assert (kind, decision.reason) == (BirthdateChange.OLDER, Reason.METHOD_TOO_WEAK)
    for method in (
        M.FACIAL_ESTIMATION,
        M.PAYMENT_CARD,
        M.GUARDIAN_VOUCH,
        M.ID_DOCUMENT,
        M.AGE_TOKEN,
    ):
        assert classify_birthdate_change(old, new, method=method, on=ON)[1].allowed


def test_upward_correction_across_18_needs_facial_estimation_or_stronger() -> None:
    old, new = born(17, on=ON), born(18, on=ON)
    assert not classify_birthdate_change(old, new, method=M.APP_STORE_SIGNAL, on=ON)[1].allowed
    assert classify_birthdate_change(old, new, method=M.FACIAL_ESTIMATION, on=ON)[1].allowed


def test_an_older_correction_within_a_tier_needs_only_more_than_self_declaration() -> None:
    old, new = born(14, on=ON, days_after_birthday=10), born(14, on=ON, days_after_birthday=200)
    assert classify_birthdate_change(old, new, method=M.APP_STORE_SIGNAL, on=ON)[1].allowed
    assert not classify_birthdate_change(old, new, method=M.SELF_DECLARED, on=ON)[1].allowed


# --- a result against the stored birthdate ----------------------------------------------------


def test_a_result_that_says_younger_applies_the_least_younger_birthdate_it_proves() -> None:
    stored = born(19, on=ON)
    found = assurance.compare_with_birthdate(
        signal(AgeRange.FROM_16_TO_17, "US-UT"), stored, country="US"
    )
    assert (found.direction, found.protection, found.flags_staff) == (
        Direction.YOUNGER,
        Protection.YOUNGER_BIRTHDATE,
        True,
    )
    assert found.younger_birthdate is not None
    from_the_date = assurance.age_at(found.younger_birthdate, ON)
    assert from_the_date == 17  # the oldest age the range allows
    day_before = found.younger_birthdate - dt.timedelta(days=1)
    assert assurance.age_at(day_before, ON) == 18


def test_a_no_answer_to_over_18_says_younger_for_a_stored_adult() -> None:
    found = assurance.compare_with_birthdate(over(18, yes=False), born(25, on=ON), country="GB")
    assert found.direction is Direction.YOUNGER
    assert found.younger_birthdate is not None
    assert assurance.age_at(found.younger_birthdate, ON) == 17


def test_an_estimate_that_says_younger_proves_no_birthdate_and_only_flags_unless_below_the_floor() -> (
    None
):
    found = assurance.compare_with_birthdate(estimate(14.0), born(19, on=ON), country="GB")
    assert (found.direction, found.protection, found.younger_birthdate) == (
        Direction.YOUNGER,
        Protection.FLAG_ONLY,
        None,
    )
    child = assurance.compare_with_birthdate(estimate(9.0), born(15, on=ON), country="GB")
    assert child.protection is Protection.UNDER_AGE_REVIEW
    au = assurance.compare_with_birthdate(estimate(13.0), born(17, on=ON), country="AU")
    assert au.protection is Protection.UNDER_AGE_REVIEW  # 13 + 2 is below AU's 16
    within = assurance.compare_with_birthdate(estimate(17.5), born(19, on=ON), country="GB")
    assert within.direction is Direction.AGREES


def test_a_result_that_says_older_flags_staff_and_changes_nothing() -> None:
    for result in (over(18), signal(AgeRange.ADULT, "US-UT"), estimate(21.0)):
        found = assurance.compare_with_birthdate(result, born(15, on=ON), country="US")
        assert (found.direction, found.protection, found.younger_birthdate) == (
            Direction.OLDER,
            Protection.NONE,
            None,
        )
        assert found.flags_staff


@FAST
@given(
    st.integers(min_value=0, max_value=90),
    st.sampled_from(list(AgeRange)),
)
def test_a_range_result_agrees_exactly_when_the_stored_age_is_inside_it(
    age: int, age_range: AgeRange
) -> None:
    found = assurance.compare_with_birthdate(
        signal(age_range, "US-UT"), born(age, on=ON), country="US"
    )
    low, high = assurance.RANGE_AGES[age_range]
    inside = low <= age and (high is None or age <= high)
    assert (found.direction is Direction.AGREES) == inside
    if found.younger_birthdate is not None:
        assert assurance.age_at(found.younger_birthdate, ON) == high


def test_results_are_asked_for_only_where_a_purpose_can_need_them() -> None:
    assert assurance.needs_results(born(17, on=ON), "AU", created_on=None, on=ON)
    assert not assurance.needs_results(born(17, on=ON), "GB", created_on=dt.date(2025, 1, 1), on=ON)
    assert assurance.needs_results(
        born(19, on=ON), "GB", created_on=dt.date(ON.year - 2, 1, 1), on=ON
    )
    assert not assurance.needs_results(born(30, on=ON), "GB", created_on=dt.date(2020, 1, 1), on=ON)
