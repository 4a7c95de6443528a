"""The age-assurance ladder (POLICY.md §7.2): how strong each method is, what a result proves, what
each purpose requires, and whether a result disagrees with the stored birthdate.

A result is not always a birthdate. An app-store signal proves an age range, and only where and
from when a state law makes the store send it (the dated rows of `jurisdictions`); a facial
estimate counts for a threshold only with a buffer of two years above it; a document check or an
age token proves an "over N" bit. Pure: the date is always an argument.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from . import jurisdictions
from .ages import ADULT_AGE, DM_MINIMUM_AGE, YOUNG_TEEN_AGE, age_on, latest_birthdate_for_age
from .jurisdictions import JurisdictionRule
from .vocabulary import AssuranceMethod, Decision, Reason, _RankedStrEnum


class Strength(_RankedStrEnum):
    """The rungs of the ladder, weakest first; each is named after the weakest method on it."""

    SELF_DECLARED = "self_declared"
    APP_STORE_SIGNAL = "app_store_signal"
    FACIAL_ESTIMATION = "facial_estimation"  # = payment_card = guardian_vouch
    ID_DOCUMENT = "id_document"  # = age_token


STRENGTH: Final[dict[AssuranceMethod, Strength]] = {
    AssuranceMethod.SELF_DECLARED: Strength.SELF_DECLARED,
    AssuranceMethod.APP_STORE_SIGNAL: Strength.APP_STORE_SIGNAL,
    AssuranceMethod.FACIAL_ESTIMATION: Strength.FACIAL_ESTIMATION,
    AssuranceMethod.PAYMENT_CARD: Strength.FACIAL_ESTIMATION,
    AssuranceMethod.GUARDIAN_VOUCH: Strength.FACIAL_ESTIMATION,
    AssuranceMethod.ID_DOCUMENT: Strength.ID_DOCUMENT,
    AssuranceMethod.AGE_TOKEN: Strength.ID_DOCUMENT,
}
assert set(STRENGTH) == set(AssuranceMethod)

# POLICY.md §7.2: an estimate counts for a threshold only this many years above it.
ESTIMATE_BUFFER_YEARS: Final = 2
MAX_AGE: Final = 120


def strength_of(method: AssuranceMethod | str) -> Strength:
    """The rung of `method` on the ladder (POLICY.md §7.2)."""
    return STRENGTH[AssuranceMethod(method)]


def methods_at_least(strength: Strength) -> tuple[AssuranceMethod, ...]:
    """The methods on `strength`'s rung or above, for messages ("facial_estimation or stronger")."""
    return tuple(m for m in AssuranceMethod if STRENGTH[m] >= strength)


class AgeRange(StrEnum):
    """The ranges an app store sends (POLICY.md §7.2)."""

    UNDER_13 = "under_13"
    FROM_13_TO_15 = "13_15"
    FROM_16_TO_17 = "16_17"
    ADULT = "18_plus"


RANGE_AGES: Final[dict[AgeRange, tuple[int, int | None]]] = {
    AgeRange.UNDER_13: (0, YOUNG_TEEN_AGE - 1),
    AgeRange.FROM_13_TO_15: (YOUNG_TEEN_AGE, DM_MINIMUM_AGE - 1),
    AgeRange.FROM_16_TO_17: (DM_MINIMUM_AGE, ADULT_AGE - 1),
    AgeRange.ADULT: (ADULT_AGE, None),
}


class ResultKind(StrEnum):
    """What a result says (POLICY.md §7.2): a range, an "over N" bit, or an estimate."""

    AGE_RANGE = "age_range"
    OVER_AGE = "over_age"
    ESTIMATE = "estimate"


# Self-declaration is the birthdate itself: it is never recorded as a result.
KIND_OF_METHOD: Final[dict[AssuranceMethod, ResultKind]] = {
    AssuranceMethod.APP_STORE_SIGNAL: ResultKind.AGE_RANGE,
    AssuranceMethod.FACIAL_ESTIMATION: ResultKind.ESTIMATE,
    AssuranceMethod.PAYMENT_CARD: ResultKind.OVER_AGE,
    AssuranceMethod.GUARDIAN_VOUCH: ResultKind.OVER_AGE,
    AssuranceMethod.ID_DOCUMENT: ResultKind.OVER_AGE,
    AssuranceMethod.AGE_TOKEN: ResultKind.OVER_AGE,
}
OVER_AGE_METHODS: Final = tuple(m for m, k in KIND_OF_METHOD.items() if k is ResultKind.OVER_AGE)
_FIELDS_OF_KIND: Final[dict[ResultKind, frozenset[str]]] = {
    ResultKind.AGE_RANGE: frozenset({"age_range", "region"}),
    ResultKind.OVER_AGE: frozenset({"over_age", "is_over"}),
    ResultKind.ESTIMATE: frozenset({"estimate"}),
}
_RESULT_FIELDS: Final = ("age_range", "over_age", "is_over", "estimate", "region")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def result_errors(
    method: object,
    *,
    age_range: object = None,
    over_age: object = None,
    is_over: object = None,
    estimate: object = None,
    region: object = None,
    confidence: object = None,
) -> dict[str, list[str]]:
    """Field errors of a result (POLICY.md §7.2): each method says one kind of thing, in range.

    An app-store signal carries a range and the US state (ISO 3166-2) whose law made the store send
    it; an estimate is an age from 0 to 120; an "over N" proof is N (1-120) and the bit; the
    confidence, where given, is from 0 to 1. A field that the method does not carry is an error.
    """
    errors: dict[str, list[str]] = {}
    try:
        kind = KIND_OF_METHOD[AssuranceMethod(method)]
    except (ValueError, KeyError):
        known = ", ".join(m.value for m in KIND_OF_METHOD)
        return {"method": [f"Unknown or unrecordable method; use one of {known}."]}
    given = dict(
        age_range=age_range, over_age=over_age, is_over=is_over, estimate=estimate, region=region
    )
    for name in _RESULT_FIELDS:
        present = given[name] is not None
        if present and name not in _FIELDS_OF_KIND[kind]:
            errors[name] = [f"A {method} result does not carry {name}."]
        elif not present and name in _FIELDS_OF_KIND[kind]:
            errors[name] = [f"A {method} result needs {name}."]
    if age_range is not None and age_range not in {r.value for r in AgeRange}:
        errors["age_range"] = ["One of " + ", ".join(r.value for r in AgeRange) + "."]
    if over_age is not None and (
        isinstance(over_age, bool) or not isinstance(over_age, int) or not 1 <= over_age <= MAX_AGE
    ):
        errors["over_age"] = [f"A whole age from 1 to {MAX_AGE}."]
    if is_over is not None and not isinstance(is_over, bool):
        errors["is_over"] = ["true or false."]
    if estimate is not None and not _number_within(estimate, 0, MAX_AGE):
        errors["estimate"] = [f"An age from 0 to {MAX_AGE}."]
    if region is not None and not (isinstance(region, str) and _REGION.match(region)):
        errors["region"] = ["An ISO 3166-2 code in upper case, e.g. US-UT."]
    if confidence is not None and not _number_within(confidence, 0, 1):
        errors["confidence"] = ["From 0 to 1."]
    return errors


def _number_within(value: object, low: float, high: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and low <= value <= high


@dataclass(frozen=True)
class AssuranceResult:
    """One result as the rules read it: what it says, by which method, on which day."""

    method: AssuranceMethod
    assured_on: dt.date
    age_range: AgeRange | None = None
    over_age: int | None = None
    is_over: bool | None = None
    estimate: float | None = None
    region: str | None = None
    confidence: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", AssuranceMethod(self.method))
        if self.age_range is not None:
            object.__setattr__(self, "age_range", AgeRange(self.age_range))
        errors = result_errors(
            self.method,
            age_range=None if self.age_range is None else self.age_range.value,
            over_age=self.over_age,
            is_over=self.is_over,
            estimate=self.estimate,
            region=self.region,
            confidence=self.confidence,
        )
        if errors:
            raise ValueError(f"invalid assurance result: {errors}")

    @property
    def kind(self) -> ResultKind:
        return KIND_OF_METHOD[self.method]

    @property
    def strength(self) -> Strength:
        return STRENGTH[self.method]

    def says(self) -> str:
        """What the result says, for people (never a birthdate: it has none)."""
        if self.kind is ResultKind.AGE_RANGE:
            return f"age range {self.age_range}"
        if self.kind is ResultKind.OVER_AGE:
            return f"over {self.over_age}: {'yes' if self.is_over else 'no'}"
        return f"estimated age {self.estimate}"


def counts_in(result: AssuranceResult, country: str) -> bool:
    """Whether the result counts as proof for an account in `country` (POLICY.md §7.2).

    An app-store signal counts only in the US state it came from, and only if that state's law
    applied on the day it was sent (Utah from 2026-05-07, Louisiana 2026-07-01, California
    2027-01-01: the dated rows of `jurisdictions`). Every other method counts anywhere.
    """
    if result.method is not AssuranceMethod.APP_STORE_SIGNAL:
        return True
    region = result.region or ""
    code = jurisdictions.normalise_country(country)
    return region.startswith(code + "-") and (
        jurisdictions.app_store_age_signal_law(region, on=result.assured_on) is not None
    )


def proven_minimum_age(result: AssuranceResult, *, on: dt.date) -> int | None:
    """The age the result proves the person has at least on `on`, or None when it proves none.

    Whole years since the result are added (an 18+ proof from two years ago proves 20). A range
    proves its bottom; an "over N" bit that says yes proves N; an estimate proves its value less
    the buffer of two years (POLICY.md §7.2), rounded down. A result dated after `on` proves
    nothing about `on`.
    """
    if on < result.assured_on:
        return None
    elapsed = age_on(result.assured_on, on)
    if result.kind is ResultKind.AGE_RANGE:
        assert result.age_range is not None
        return RANGE_AGES[result.age_range][0] + elapsed
    if result.kind is ResultKind.OVER_AGE:
        assert result.over_age is not None
        return result.over_age + elapsed if result.is_over else None
    assert result.estimate is not None
    return max(0, math.floor(result.estimate - ESTIMATE_BUFFER_YEARS)) + elapsed


def proves_age(result: AssuranceResult, age: int, *, country: str, on: dt.date) -> bool:
    """Whether the result shows the person is at least `age` on `on`, for an account in `country`.

    POLICY.md §7.2: an estimate counts for a threshold only with a 2-year buffer above it; an
    app-store signal only where and from when the state law applies."""
    proven = proven_minimum_age(result, on=on)
    return proven is not None and proven >= age and counts_in(result, country)


class Purpose(StrEnum):
    """What a result may be needed for (POLICY.md §7.2 table)."""

    HOLD_ACCOUNT = "hold_account"
    CORRECT_BIRTHDATE_UPWARD = "correct_birthdate_upward"
    ADULT_FEATURE = "adult_feature"


@dataclass(frozen=True)
class Requirement:
    """A purpose's required strength, the age the results must prove (None: only the method's
    strength is asked, as for a birthdate correction a staff reviewer weighs) and the reason
    code when it is missing."""

    purpose: Purpose
    strength: Strength
    age: int | None
    reason: Reason


def hold_account_requirement(
    country: str,
    *,
    age: int,
    on: dt.date,
    table: Iterable[JurisdictionRule] = jurisdictions.TABLE,
) -> Requirement | None:
    """POLICY.md §7.2 "hold an account where the minimum age is above 13 (AU; FR/DK once in
    force)": facial_estimation or stronger, proving the minimum age (or, for an account in a
    guardian-consent band, the band's bottom); None where the minimum age is 13."""
    rows = tuple(table)
    minimum = jurisdictions.minimum_age(country, on=on, table=rows)
    if minimum <= YOUNG_TEEN_AGE:
        return None
    band = jurisdictions.guardian_consent_band(country, on=on, table=rows)
    claimed = band.youngest if band is not None and age in band else minimum
    return Requirement(
        Purpose.HOLD_ACCOUNT, Strength.FACIAL_ESTIMATION, claimed, Reason.ASSURANCE_REQUIRED
    )


def adult_feature_requirement(
    *, feature_age: int, age_at_sign_up: int | None
) -> Requirement | None:
    """POLICY.md §7.2 "unlock an 18+ feature (livestream, gifts) for an account created under 18":
    id_document or age_token proving the feature's age (18; gifts in KR 19). None for an account
    created as an adult (or whose creation age is unknown: facts built without one)."""
    if age_at_sign_up is None or age_at_sign_up >= ADULT_AGE:
        return None
    return Requirement(
        Purpose.ADULT_FEATURE, Strength.ID_DOCUMENT, feature_age, Reason.ASSURANCE_REQUIRED
    )


CROSSING_AGES: Final = (DM_MINIMUM_AGE, ADULT_AGE)


def correction_requirement(old: dt.date, new: dt.date, *, on: dt.date) -> Requirement:
    """POLICY.md §4 and §7.2 "correct a birthdate upward": across 16 or 18 (on `on`),
    facial_estimation or stronger; any other move older, a method stronger than self-declaration.
    Missing: method_too_weak."""
    old_age, new_age = age_on(old, on), age_on(new, on)
    crosses = any(old_age < limit <= new_age for limit in CROSSING_AGES)
    strength = Strength.FACIAL_ESTIMATION if crosses else Strength.APP_STORE_SIGNAL
    return Requirement(Purpose.CORRECT_BIRTHDATE_UPWARD, strength, None, Reason.METHOD_TOO_WEAK)


def method_satisfies(method: AssuranceMethod | str, requirement: Requirement) -> bool:
    """Whether a method is strong enough for `requirement` (its rung is at least the required one)."""
    return strength_of(method) >= requirement.strength


def missing_strength(
    results: Iterable[AssuranceResult], requirement: Requirement, *, country: str, on: dt.date
) -> Strength | None:
    """None when some result satisfies `requirement` on `on`; else the strength still missing.

    A result satisfies it when its method is strong enough and, where the requirement names an
    age, it proves that age on `on` for an account in `country` (`proves_age`).
    """
    for result in results:
        if result.strength < requirement.strength:
            continue
        if requirement.age is None or proves_age(result, requirement.age, country=country, on=on):
            return None
    return requirement.strength


def check(
    results: Iterable[AssuranceResult], requirement: Requirement, *, country: str, on: dt.date
) -> Decision:
    """`missing_strength` as a Decision: refused with the requirement's reason code."""
    if missing_strength(results, requirement, country=country, on=on) is None:
        return Decision.allow()
    return Decision.refuse(requirement.reason)


def needs_results(
    birthdate: dt.date,
    country: str,
    *,
    created_on: dt.date | None,
    on: dt.date,
    table: Iterable[JurisdictionRule] = jurisdictions.TABLE,
) -> bool:
    """Whether any purpose of §7.2 could ask for this person's results on `on`: the minimum age
    of their country is above 13, or they signed up under 18 and are an adult now. Callers that
    assemble facts read results only for these people."""
    age = age_on(birthdate, on)
    if hold_account_requirement(country, age=age, on=on, table=table) is not None:
        return True
    signed_up_minor = created_on is not None and age_at(birthdate, created_on) < ADULT_AGE
    return signed_up_minor and age >= ADULT_AGE


def age_at(birthdate: dt.date, when: dt.date) -> int:
    """Age on `when`, 0 for a day before the birthdate (an account created before a corrected,
    later birthdate: its holder was a child then)."""
    return 0 if when < birthdate else age_on(birthdate, when)


class Direction(StrEnum):
    """How a result compares with the stored birthdate on the day it was assured."""

    AGREES = "agrees"
    YOUNGER = "younger"
    OLDER = "older"


class Protection(StrEnum):
    """What a result that says younger does at once (POLICY.md §7.2: it adds protection).

    - `younger_birthdate`: a range or a "no" bit bounds the age from above, so the birthdate moves
      to the earliest date within that bound (the least change the result proves) through a
      birthdate-change request, which applies at once because it makes the person younger;
    - `under_age_review`: an estimate does not prove a birthdate, but one whose value plus the
      buffer is below the country's floor places the account in under_age_review (§7.3);
    - `flag_only`: any other estimate that says younger raises the staff flag and changes nothing
      (§4: a signal never changes an age on its own).
    """

    NONE = "none"
    YOUNGER_BIRTHDATE = "younger_birthdate"
    UNDER_AGE_REVIEW = "under_age_review"
    FLAG_ONLY = "flag_only"


@dataclass(frozen=True)
class Comparison:
    direction: Direction
    stored_age: int
    protection: Protection
    younger_birthdate: dt.date | None = None

    @property
    def flags_staff(self) -> bool:
        """Every disagreement goes to staff (POLICY.md §7.2), older never changes anything."""
        return self.direction is not Direction.AGREES


def compare_with_birthdate(
    result: AssuranceResult,
    birthdate: dt.date,
    *,
    country: str,
    table: Iterable[JurisdictionRule] = jurisdictions.TABLE,
) -> Comparison:
    """Does the result say the person is younger or older than the stored birthdate makes them on
    the day it was assured (POLICY.md §7.2)?

    Younger applies at once (see `Protection`) and flags staff; older flags staff and changes
    nothing, ever (an age is raised only through a reviewed birthdate-change request, §4). An
    estimate disagrees only beyond its buffer: younger when value + 2 is below the stored age,
    older when value - 2 is a whole year above it.
    """
    on = result.assured_on
    stored = age_at(birthdate, on)
    upper: int | None = None
    lower: int | None = None
    if result.kind is ResultKind.AGE_RANGE:
        assert result.age_range is not None
        lower, upper = RANGE_AGES[result.age_range]
    elif result.kind is ResultKind.OVER_AGE:
        assert result.over_age is not None
        if result.is_over:
            lower = result.over_age
        else:
            upper = result.over_age - 1
    else:
        assert result.estimate is not None
        if result.estimate + ESTIMATE_BUFFER_YEARS < stored:
            floor = jurisdictions.account_floor_age(country, on=on, table=table)
            below = result.estimate + ESTIMATE_BUFFER_YEARS < floor
            protection = Protection.UNDER_AGE_REVIEW if below else Protection.FLAG_ONLY
            return Comparison(Direction.YOUNGER, stored, protection)
        if math.floor(result.estimate - ESTIMATE_BUFFER_YEARS) > stored:
            return Comparison(Direction.OLDER, stored, Protection.NONE)
        return Comparison(Direction.AGREES, stored, Protection.NONE)
    if upper is not None and stored > upper:
        # The earliest birthdate of someone at most `upper` on `on`: born the day after the last
        # birthdate that makes someone `upper + 1`.
        younger = latest_birthdate_for_age(upper + 1, on) + dt.timedelta(days=1)
        return Comparison(Direction.YOUNGER, stored, Protection.YOUNGER_BIRTHDATE, younger)
    if lower is not None and stored < lower:
        return Comparison(Direction.OLDER, stored, Protection.NONE)
    return Comparison(Direction.AGREES, stored, Protection.NONE)
