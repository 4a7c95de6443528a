"""The ages each tier spans (POLICY.md §1), as the SQL age queries ask for them. No Django."""

from __future__ import annotations

import pytest

from safety_portal import rules
from safety_portal.rules.vocabulary import Tier


@pytest.mark.parametrize(
    ("tier", "youngest", "oldest"),
    [
        (Tier.CHILD, 0, 12),
        (Tier.YOUNG_TEEN, 13, 15),
        (Tier.OLDER_TEEN, 16, 17),
        (Tier.ADULT, 18, None),
    ],
)
def test_each_tier_spans_the_ages_the_policy_gives_it(
    tier: Tier, youngest: int, oldest: int | None
) -> None:
    assert rules.ages.tier_ages(tier) == (youngest, oldest)


def test_a_tier_named_by_its_value_spans_the_same_ages() -> None:
    assert rules.ages.tier_ages("older_teen") == rules.ages.tier_ages(Tier.OLDER_TEEN)


def test_every_age_falls_in_exactly_the_span_of_its_own_tier() -> None:
    spans = {tier: rules.ages.tier_ages(tier) for tier in Tier}
    for age in range(131):
        containing = [
            tier
            for tier, (youngest, oldest) in spans.items()
            if youngest <= age and (oldest is None or age <= oldest)
        ]
        assert containing == [rules.ages.tier_for_age(age)], age


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="elder"):
        rules.ages.tier_ages("elder")
