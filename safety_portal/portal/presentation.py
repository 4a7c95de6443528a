"""How the portal names things on screen: priority bands, ages, decision types.

Display only: each value comes from the rules (`safety_portal.rules`: ages, decisions, priority);
nothing here decides anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from safety_portal import rules
from safety_portal.rules.priority import Band

BAND_LABELS = {
    Band.URGENT: "P1 urgent",
    Band.HIGH: "P2 high",
    Band.NORMAL: "P3 normal",
    Band.LOW: "P4 low",
}
TIER_LABELS = {
    rules.vocabulary.Tier.CHILD: "Under 13",
    rules.vocabulary.Tier.YOUNG_TEEN: "13\u201315",  # en dash, as a reader writes a range
    rules.vocabulary.Tier.OLDER_TEEN: "16\u201317",
    rules.vocabulary.Tier.ADULT: "Adult",
}


def band_label(band: int) -> str:
    try:
        return BAND_LABELS[Band(band)]
    except ValueError:
        return f"P{band}"


@dataclass(frozen=True)
class AgeView:
    tier: str
    label: str
    years: int
    minor: bool


def age_of(user: Any, *, on: dt.date) -> AgeView | None:
    """Tier and age in years; never the birthdate itself (issue 5, moderator role)."""
    if user is None or user.birthdate is None or user.birthdate > on:
        return None
    years = rules.ages.age_on(user.birthdate, on)
    tier = rules.ages.tier_for_age(years)
    return AgeView(
        tier=tier.value,
        label=TIER_LABELS[tier],
        years=years,
        minor=years < rules.ages.ADULT_AGE,
    )


DECISION_LABELS = {
    rules.decisions.DecisionType.NO_VIOLATION: "No violation",
    rules.decisions.DecisionType.WARN: "Warn",
    rules.decisions.DecisionType.REMOVE_MESSAGES: "Remove message(s)",
    rules.decisions.DecisionType.RESTRICT_FEATURE: "Restrict a feature",
    rules.decisions.DecisionType.SUSPEND: "Suspend the account",
    rules.decisions.DecisionType.TERMINATE: "Terminate the account",
    rules.decisions.DecisionType.REQUIRE_AGE_VERIFICATION: "Require age verification",
    rules.decisions.DecisionType.ESCALATE: "Escalate to senior moderators",
}


def decision_type_choices(user: Any) -> list[tuple[str, str]]:
    """Decision types this person may take in at least one form (the service checks the rest:
    a moderator may suspend, but for 30 days at most)."""
    out = []
    for kind in rules.decisions.DecisionType:
        needed = rules.decisions.permissions_for(kind, days=1)
        if all(user.has_perm(p) for p in needed):
            out.append((kind.value, DECISION_LABELS[kind]))
    return out


@cache
def keyword_label(value: str) -> str:
    """'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS' -> 'grooming sexual enticement minors'."""
    return value.removeprefix("KEYWORD_").replace("_", " ").lower()


@cache
def category_label(value: str) -> str:
    """'STATEMENT_CATEGORY_CYBER_VIOLENCE' -> 'Cyber violence' (the DSA enum, readable)."""
    text = value.removeprefix("STATEMENT_CATEGORY_").replace("_", " ").lower()
    return text[:1].upper() + text[1:]
