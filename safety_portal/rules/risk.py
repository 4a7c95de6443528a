"""Signals for staff (POLICY.md §3, §4): when an age estimate or a pattern of contact with minors
warrants a flag or an automated report. A finding never changes an age by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import jurisdictions
from .ages import age_on, tier_for_age


@dataclass(frozen=True)
class AgeEstimateFinding:
    raises_flag: bool
    why: str


def assess_age_estimate(
    *,
    declared_birthdate: dt.date,
    country: str,
    on: dt.date,
    estimated_age: float,
    confidence: float,
    min_confidence: float,
    margin_years: float,
) -> AgeEstimateFinding:
    """Does an integration's age estimate warrant a flag for staff review (POLICY.md §4)?

    It does when the estimator is confident enough and the estimate is either below the
    country's minimum age or at least ``margin_years`` below the declared age while falling into a
    younger tier. The flag is for a person to look at; it never changes the age.
    """
    if confidence < min_confidence:
        return AgeEstimateFinding(False, "confidence below threshold")
    declared_age = age_on(declared_birthdate, on)
    minimum = jurisdictions.account_floor_age(country, on=on)
    if estimated_age < minimum <= declared_age:
        return AgeEstimateFinding(True, f"estimate below the minimum age of {minimum}")
    estimated_tier = tier_for_age(max(0, int(estimated_age)))
    declared_tier = tier_for_age(declared_age)
    if declared_age - estimated_age >= margin_years and estimated_tier < declared_tier:
        return AgeEstimateFinding(
            True, f"estimate in a younger tier ({estimated_tier.value}, declared {declared_tier})"
        )
    return AgeEstimateFinding(False, "estimate consistent with the declared age")


@dataclass(frozen=True)
class ContactRiskFinding:
    triggered: bool
    reasons: tuple[str, ...]


def assess_contact_risk(
    *, refusals_to_minors: int, distinct_minors: int, max_refusals: int, max_distinct: int
) -> ContactRiskFinding:
    """An adult repeatedly refused when messaging minors, or reaching for many distinct minors in
    a short window, gets an automated report for grooming review (issue 4, POLICY.md §3)."""
    reasons = []
    if refusals_to_minors >= max_refusals:
        reasons.append(f"{refusals_to_minors} refused direct messages to minors")
    if distinct_minors >= max_distinct:
        reasons.append(f"attempts to reach {distinct_minors} distinct minors")
    return ContactRiskFinding(bool(reasons), tuple(reasons))
