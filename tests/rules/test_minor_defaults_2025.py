"""The 2025-26 defaults and ceilings for minors (POLICY.md §7.4), one test per changed row.

Sources of the rows: Commission guidelines on the protection of minors under DSA art. 28 (OJ
C/2025/5519), Ofcom Protection of Children Codes (in force 25 Jul 2025), Instagram Teen Accounts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from safety_portal import rules
from safety_portal.rules.capabilities import Capability, UserFacts
from safety_portal.rules.safety_settings import loosening_refusal
from safety_portal.rules.vocabulary import Audience, Reason, SuggestionReach, Tier
from tests.dates import born

ON = dt.date(2026, 12, 6)


def caps_of(age: int, **settings: object) -> dict[str, Capability]:
    tier = rules.ages.tier_for_age(age)
    own = dataclasses.replace(rules.safety_settings.default_settings(tier), **settings)  # type: ignore[arg-type]
    facts = UserFacts(birthdate=born(age, on=ON), country="GB", settings=own)
    return rules.capabilities.capabilities(facts, on=ON)


# --- account private ----------------------------------------------------------------------------


def test_account_private_young_teen_cannot_go_public_without_a_linked_guardian() -> None:
    refusal = loosening_refusal(
        Tier.YOUNG_TEEN,
        "private_account",
        False,
        True,
        guardian_linked=False,
        guardian_approved=False,
    )
    assert refusal is Reason.SETTING_NEEDS_GUARDIAN


def test_account_private_young_teen_goes_public_only_with_the_linked_guardians_approval() -> None:
    def change(approved: bool) -> Reason | None:
        return loosening_refusal(
            Tier.YOUNG_TEEN,
            "private_account",
            False,
            True,
            guardian_linked=True,
            guardian_approved=approved,
        )

    assert change(approved=False) is Reason.SETTING_NEEDS_GUARDIAN
    assert change(approved=True) is None


def test_account_private_is_the_default_for_16_17_and_their_own_choice() -> None:
    assert rules.safety_settings.default_settings(Tier.OLDER_TEEN).private_account is True
    assert (
        loosening_refusal(
            Tier.OLDER_TEEN,
            "private_account",
            False,
            True,
            guardian_linked=True,
            guardian_approved=False,
        )
        is None
    )


# --- downloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [Tier.YOUNG_TEEN, Tier.OLDER_TEEN])
def test_downloads_are_off_and_cannot_be_turned_on_for_13_to_17(tier: Tier) -> None:
    assert rules.safety_settings.default_settings(tier).download_setting is False
    assert (
        rules.safety_settings.check_setting(tier, "download_setting", True)
        is Reason.SETTING_LOCKED_FOR_TIER
    )


def test_downloads_a_stored_on_for_a_16_year_old_does_not_count() -> None:
    downloads = caps_of(16, download_setting=True)["downloads"]
    assert (downloads.allowed, downloads.value) == (False, False)


# --- suggestions and connection lists -----------------------------------------------------------


def test_account_suggested_to_others_is_off_and_locked_for_13_to_15() -> None:
    assert (
        rules.safety_settings.check_setting(Tier.YOUNG_TEEN, "suggest_account", True)
        is Reason.SETTING_LOCKED_FOR_TIER
    )
    reach = caps_of(14, suggest_account=True)["suggested_to"]
    assert (reach.allowed, reach.value) == (False, SuggestionReach.NOBODY)


def test_account_suggested_to_others_a_16_year_old_who_opts_in_reaches_only_connections() -> None:
    assert caps_of(16)["suggested_to"].value is SuggestionReach.NOBODY  # off by default
    assert caps_of(16, suggest_account=True)["suggested_to"].value is SuggestionReach.CONNECTIONS
    assert caps_of(30)["suggested_to"].value is SuggestionReach.EVERYONE


def test_connection_lists_are_hidden_and_locked_for_13_to_15() -> None:
    assert (
        rules.safety_settings.check_setting(Tier.YOUNG_TEEN, "connections_visible", True)
        is Reason.SETTING_LOCKED_FOR_TIER
    )
    lists = caps_of(13, connections_visible=True)["connection_lists"]
    assert (lists.allowed, lists.value) == (False, False)


def test_connection_lists_are_hidden_by_default_for_16_17_who_may_show_them() -> None:
    assert caps_of(17)["connection_lists"].value is False
    assert caps_of(17, connections_visible=True)["connection_lists"].value is True
    assert caps_of(18)["connection_lists"].value is True  # adults: visible by default


# --- loosening within the ceiling ---------------------------------------------------------------


def test_loosen_a_setting_young_teen_with_a_linked_guardian_needs_the_guardians_approval() -> None:
    args = (Tier.YOUNG_TEEN, "comment_setting", Audience.FRIENDS, Audience.NOBODY)
    assert (
        loosening_refusal(*args, guardian_linked=True, guardian_approved=False)
        is Reason.SETTING_NEEDS_GUARDIAN
    )
    assert loosening_refusal(*args, guardian_linked=True, guardian_approved=True) is None
    assert loosening_refusal(*args, guardian_linked=False, guardian_approved=False) is None


def test_loosen_a_setting_16_17_choose_for_themselves_within_the_ceiling() -> None:
    args = (Tier.OLDER_TEEN, "dm_setting", Audience.FRIENDS, Audience.NOBODY)
    assert loosening_refusal(*args, guardian_linked=True, guardian_approved=False) is None


@pytest.mark.parametrize(
    ("name", "new", "current"),
    [
        ("comment_setting", Audience.NOBODY, Audience.FRIENDS),
        ("private_account", True, False),
        ("comment_setting", Audience.FRIENDS, Audience.FRIENDS),
    ],
)
def test_tightening_or_keeping_a_setting_never_needs_a_guardian(
    name: str, new: object, current: object
) -> None:
    refusal = loosening_refusal(
        Tier.YOUNG_TEEN, name, new, current, guardian_linked=True, guardian_approved=False
    )
    assert refusal is None


def test_loosening_above_the_ceiling_is_refused_even_with_a_guardians_approval() -> None:
    refusal = loosening_refusal(
        Tier.YOUNG_TEEN,
        "download_setting",
        True,
        False,
        guardian_linked=True,
        guardian_approved=True,
    )
    assert refusal is Reason.SETTING_LOCKED_FOR_TIER


# --- reminders and the feed ---------------------------------------------------------------------


def test_quiet_hours_and_screen_time_reminder_cannot_be_dismissed_by_13_to_15() -> None:
    caps = caps_of(14)
    assert caps["quiet_hours"].dismissable is False
    assert caps["daily_screen_time_limit"].dismissable is False
    assert caps["daily_screen_time_limit"].value == 60


def test_screen_time_reminder_is_dismissable_for_16_17_and_absent_for_adults() -> None:
    assert caps_of(16)["daily_screen_time_limit"].dismissable is True
    adult = caps_of(30)["daily_screen_time_limit"]
    assert (adult.value, adult.dismissable) == (None, None)


def test_quiet_hours_for_13_to_15_keep_the_wider_window_nothing_loosens() -> None:
    start, end = caps_of(14)["quiet_hours"].value  # type: ignore[misc]
    assert rules.guardianship.quiet_hours_cover(
        (start, end), (dt.time(22, 0), dt.time(7, 0))
    )  # §7.4's 22:00-07:00 lies inside


@pytest.mark.parametrize("age", [13, 16, 30])
def test_recommendation_feed_a_non_profiling_option_is_always_offered(age: int) -> None:
    feed = caps_of(age)["non_profiling_feed"]
    assert (feed.allowed, feed.value) == (True, True)
