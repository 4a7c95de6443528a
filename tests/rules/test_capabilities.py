"""Settings, guardian limits and capabilities (POLICY.md §3, §5). No database, no Django."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safety_portal import rules
from safety_portal.rules.capabilities import Capability, UserFacts
from safety_portal.rules.guardianship import GuardianLimits
from safety_portal.rules.safety_settings import SafetySettings
from safety_portal.rules.vocabulary import AccountStatus, Audience, Feature, Reason, Tier
from tests.dates import born

ON = dt.date(2026, 6, 1)
NOBODY, FRIENDS, EVERYONE = Audience.NOBODY, Audience.FRIENDS, Audience.EVERYONE


def person(age: int, country: str = "GB", **kwargs: object) -> UserFacts:
    return UserFacts(birthdate=born(age, on=ON, days_after_birthday=40), country=country, **kwargs)  # type: ignore[arg-type]


def caps(facts: UserFacts, on: dt.date = ON) -> dict[str, Capability]:
    return rules.capabilities.capabilities(facts, on=on)


def with_settings(tier: Tier, **changes: object) -> SafetySettings:
    return dataclasses.replace(rules.safety_settings.default_settings(tier), **changes)  # type: ignore[arg-type]


# --- defaults and ceilings ------------------------------------------------------------------------


def test_young_teen_defaults_are_private_with_messages_duets_and_downloads_off() -> None:
    assert rules.safety_settings.default_settings(Tier.YOUNG_TEEN) == SafetySettings(
        dm_setting=NOBODY,
        private_account=True,
        comment_setting=FRIENDS,
        duet_setting=NOBODY,
        download_setting=False,
        suggest_account=False,
        connections_visible=False,
    )


def test_older_teen_defaults_are_private_with_messages_off_and_duets_for_friends() -> None:
    assert rules.safety_settings.default_settings(Tier.OLDER_TEEN) == SafetySettings(
        dm_setting=NOBODY,
        private_account=True,
        comment_setting=EVERYONE,
        duet_setting=FRIENDS,
        download_setting=False,
        suggest_account=False,
        connections_visible=False,
    )


def test_adult_defaults_are_public_with_messages_from_friends_and_suggestions_on() -> None:
    adult = rules.safety_settings.default_settings(Tier.ADULT)
    assert (adult.dm_setting, adult.private_account, adult.suggest_account) == (
        FRIENDS,
        False,
        True,
    )


@pytest.mark.parametrize("tier", list(Tier))
def test_every_default_is_allowed_for_its_tier(tier: Tier) -> None:
    defaults = rules.safety_settings.default_settings(tier)
    for name in rules.safety_settings.SETTING_NAMES:
        assert rules.safety_settings.check_setting(tier, name, getattr(defaults, name)) is None, (
            name
        )


@pytest.mark.parametrize(
    ("tier", "name", "value", "reason"),
    [
        (Tier.YOUNG_TEEN, "dm_setting", FRIENDS, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.YOUNG_TEEN, "duet_setting", FRIENDS, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.YOUNG_TEEN, "download_setting", True, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.YOUNG_TEEN, "suggest_account", True, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.YOUNG_TEEN, "connections_visible", True, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.OLDER_TEEN, "download_setting", True, Reason.SETTING_LOCKED_FOR_TIER),
        (Tier.YOUNG_TEEN, "comment_setting", EVERYONE, Reason.SETTING_ABOVE_TIER_CEILING),
        (Tier.OLDER_TEEN, "dm_setting", EVERYONE, Reason.SETTING_ABOVE_TIER_CEILING),
        (Tier.CHILD, "private_account", False, Reason.SETTING_LOCKED_FOR_TIER),
    ],
)
def test_loosening_beyond_the_tier_is_refused_with_a_reason(
    tier: Tier, name: str, value: object, reason: Reason
) -> None:
    assert rules.safety_settings.check_setting(tier, name, value) is reason


@pytest.mark.parametrize(
    ("tier", "name", "value"),
    [
        (Tier.YOUNG_TEEN, "private_account", False),  # private by default, not locked
        (Tier.YOUNG_TEEN, "comment_setting", NOBODY),
        (Tier.OLDER_TEEN, "dm_setting", FRIENDS),
        (Tier.OLDER_TEEN, "suggest_account", True),
        (Tier.OLDER_TEEN, "connections_visible", True),
        (Tier.ADULT, "dm_setting", EVERYONE),
    ],
)
def test_choices_within_the_tier_are_allowed(tier: Tier, name: str, value: object) -> None:
    assert rules.safety_settings.check_setting(tier, name, value) is None


def test_setting_values_may_be_plain_strings_from_the_database() -> None:
    assert rules.safety_settings.check_setting(Tier.OLDER_TEEN, "dm_setting", "friends") is None
    assert (
        SafetySettings("nobody", True, "friends", "nobody", False, False, False).dm_setting
        is NOBODY
    )  # type: ignore[arg-type]


def test_unknown_setting_names_and_values_are_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        rules.safety_settings.check_setting(Tier.ADULT, "dm", NOBODY)
    with pytest.raises(ValueError, match="strangers"):
        rules.safety_settings.check_setting(Tier.ADULT, "dm_setting", "strangers")
    with pytest.raises(TypeError):
        rules.safety_settings.check_setting(Tier.ADULT, "download_setting", "yes")


def openness(name: str, value: object) -> int:
    """How much a setting value lets in, judged by the test itself (0 = strictest)."""
    if isinstance(value, Audience):
        return [NOBODY, FRIENDS, EVERYONE].index(value)
    return int(value is False) if name == "private_account" else int(value is True)


setting_values: dict[str, list[object]] = {
    name: ([NOBODY, FRIENDS, EVERYONE] if name.endswith("_setting") and name != "download_setting"
           else [False, True])
    for name in rules.safety_settings.SETTING_NAMES
}  # fmt: skip


@st.composite
def safety_settings(draw: st.DrawFn) -> SafetySettings:
    return SafetySettings(
        **{
            name: draw(st.sampled_from(setting_values[name]))
            for name in rules.safety_settings.SETTING_NAMES
        }
    )  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(Tier)), st.sampled_from(rules.safety_settings.SETTING_NAMES), st.data())
def test_tightening_a_setting_is_always_allowed(tier: Tier, name: str, data: st.DataObject) -> None:
    value = data.draw(st.sampled_from(setting_values[name]))
    if rules.safety_settings.check_setting(tier, name, value) is None:
        for stricter in setting_values[name]:
            if openness(name, stricter) <= openness(name, value):
                assert rules.safety_settings.check_setting(tier, name, stricter) is None


@settings(max_examples=200, deadline=None)
@given(safety_settings(), st.sampled_from(list(Tier)))
def test_clamping_never_loosens_and_keeps_every_allowed_value(
    own: SafetySettings, tier: Tier
) -> None:
    clamped = rules.safety_settings.clamp_settings(own, tier)
    for name in rules.safety_settings.SETTING_NAMES:
        mine, effective = getattr(own, name), getattr(clamped, name)
        assert openness(name, effective) <= openness(name, mine)
        assert rules.safety_settings.check_setting(tier, name, effective) is None
        if rules.safety_settings.check_setting(tier, name, mine) is None:
            assert effective == mine
    assert rules.safety_settings.clamp_settings(clamped, tier) == clamped


def test_adult_settings_clamp_to_the_older_teen_ceiling_when_a_younger_age_is_found() -> None:
    clamped = rules.safety_settings.clamp_settings(
        rules.safety_settings.default_settings(Tier.ADULT), Tier.YOUNG_TEEN
    )
    assert (clamped.dm_setting, clamped.comment_setting, clamped.duet_setting) == (
        NOBODY,
        FRIENDS,
        NOBODY,
    )
    assert clamped.download_setting is False


def test_audiences_order_by_strictness_not_alphabetically() -> None:
    assert NOBODY < FRIENDS < EVERYONE
    assert min(EVERYONE, NOBODY, FRIENDS) is NOBODY
    assert FRIENDS > "nobody"


# --- guardian limits (POLICY.md §5) -------------------------------------------------------------

T = dt.time


@pytest.mark.parametrize(
    ("tier", "limits"),
    [
        (Tier.YOUNG_TEEN, GuardianLimits(dm_off=True)),
        (Tier.YOUNG_TEEN, GuardianLimits(daily_screen_time_minutes=45)),
        (Tier.YOUNG_TEEN, GuardianLimits(daily_screen_time_minutes=60)),
        (Tier.YOUNG_TEEN, GuardianLimits(quiet_hours=(T(20, 30), T(8)))),
        (Tier.OLDER_TEEN, GuardianLimits(quiet_hours=(T(22), T(9)))),
        (Tier.OLDER_TEEN, GuardianLimits(quiet_hours=(T(0), T(0)))),  # the whole day
        (Tier.ADULT, GuardianLimits(daily_screen_time_minutes=600, quiet_hours=(T(1), T(2)))),
    ],
)
def test_a_guardian_may_tighten(tier: Tier, limits: GuardianLimits) -> None:
    assert rules.guardianship.check_guardian_limits(tier, limits) is None


@pytest.mark.parametrize(
    ("tier", "limits"),
    [
        (Tier.YOUNG_TEEN, GuardianLimits(daily_screen_time_minutes=61)),
        (Tier.YOUNG_TEEN, GuardianLimits(quiet_hours=(T(22), T(8)))),  # the tier starts at 21:00
        (Tier.OLDER_TEEN, GuardianLimits(quiet_hours=(T(22), T(7, 59)))),
        (Tier.OLDER_TEEN, GuardianLimits(quiet_hours=(T(8), T(22)))),  # the daytime instead
    ],
)
def test_a_guardian_may_not_loosen(tier: Tier, limits: GuardianLimits) -> None:
    assert rules.guardianship.check_guardian_limits(tier, limits) is Reason.GUARDIAN_LOOSENS


def test_guardian_limits_reject_negative_screen_time_and_time_zones() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        GuardianLimits(daily_screen_time_minutes=-1)
    with pytest.raises(ValueError, match="time zone"):
        GuardianLimits(quiet_hours=(T(21, tzinfo=dt.UTC), T(8)))


def test_quiet_hours_wrap_past_midnight() -> None:
    window = (T(21), T(8))
    assert rules.guardianship.is_within_quiet_hours(window, T(23, 30))
    assert rules.guardianship.is_within_quiet_hours(window, T(7, 59))
    assert not rules.guardianship.is_within_quiet_hours(window, T(8))
    assert not rules.guardianship.is_within_quiet_hours(window, T(12))
    assert not rules.guardianship.is_within_quiet_hours(None, T(23))


times = st.builds(T, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
windows = st.tuples(times, times)


def minutes_in(window: tuple[dt.time, dt.time] | None) -> set[int]:
    """Brute force: the minutes of the day a window covers."""
    if window is None:
        return set()
    return {
        m
        for m in range(24 * 60)
        if rules.guardianship.is_within_quiet_hours(window, T(m // 60, m % 60))
    }


@settings(max_examples=150, deadline=None)
@given(windows, st.sampled_from([None, (T(21), T(8)), (T(22), T(8))]))
def test_effective_quiet_hours_cover_the_tier_and_any_guardian_window_touching_it(
    guardian: tuple[dt.time, dt.time], tier_window: tuple[dt.time, dt.time] | None
) -> None:
    tier = {None: Tier.ADULT, (T(21), T(8)): Tier.YOUNG_TEEN, (T(22), T(8)): Tier.OLDER_TEEN}[
        tier_window
    ]
    age = {Tier.ADULT: 30, Tier.YOUNG_TEEN: 14, Tier.OLDER_TEEN: 17}[tier]
    effective = caps(person(age, guardian_limits=GuardianLimits(quiet_hours=guardian)))[
        "quiet_hours"
    ].value
    covered = minutes_in(effective)  # type: ignore[arg-type]
    assert minutes_in(tier_window) <= covered
    guardian_minutes, tier_minutes = minutes_in(guardian), minutes_in(tier_window)
    touching = tier_window is None or any(
        (m + d) % 1440 in tier_minutes for m in guardian_minutes for d in (-1, 0, 1)
    )
    if touching:
        assert guardian_minutes <= covered
    assert rules.guardianship.quiet_hours_cover(effective, tier_window)  # type: ignore[arg-type]
    # The cover test agrees with brute force.
    assert rules.guardianship.quiet_hours_cover(guardian, tier_window) == (
        tier_minutes <= guardian_minutes
    )


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([14, 17, 30]),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 200)),
    st.one_of(st.none(), windows),
)
def test_a_guardian_never_loosens_any_capability(
    age: int, dm_off: bool, minutes: int | None, quiet: tuple[dt.time, dt.time] | None
) -> None:
    """Whatever a guardian stores, even limits the manager would refuse, nothing opens up."""
    plain = caps(person(age, settings=with_settings(rules.ages.tier_for_age(age))))
    guarded = caps(
        person(
            age,
            settings=with_settings(rules.ages.tier_for_age(age)),
            guardian_limits=GuardianLimits(dm_off, minutes, quiet),
        )
    )
    for name in rules.capabilities.CAPABILITY_NAMES:
        assert no_looser(guarded[name], plain[name]), name


def test_guardian_dm_off_refuses_messages_with_guardian_restricted() -> None:
    teen = person(17, settings=with_settings(Tier.OLDER_TEEN, dm_setting=FRIENDS))
    guarded = dataclasses.replace(teen, guardian_limits=GuardianLimits(dm_off=True))
    assert caps(teen)["direct_messages"].allowed
    dm = caps(guarded)["direct_messages"]
    assert (dm.allowed, dm.value, dm.reason) == (False, NOBODY, Reason.GUARDIAN_RESTRICTED)


def test_guardian_screen_time_and_quiet_hours_apply_and_say_why() -> None:
    teen = person(
        14, guardian_limits=GuardianLimits(daily_screen_time_minutes=45, quiet_hours=(T(20), T(8)))
    )
    result = caps(teen)
    assert result["daily_screen_time_limit"].value == 45
    assert result["daily_screen_time_limit"].reason is Reason.GUARDIAN_RESTRICTED
    assert result["quiet_hours"].value == (T(20), T(8))


def test_a_guardian_asking_for_more_screen_time_still_gets_the_tier_default() -> None:
    teen = person(14, guardian_limits=GuardianLimits(daily_screen_time_minutes=120))
    assert caps(teen)["daily_screen_time_limit"].value == 60


# --- capabilities: examples for every reason ------------------------------------------------------


def test_every_capability_is_answered_for_every_age_including_children() -> None:
    for age in range(0, 25):
        result = caps(person(age))
        assert tuple(result) == rules.capabilities.CAPABILITY_NAMES
        for name, cap in result.items():
            assert cap.name == name
            assert cap.allowed or cap.reason is not None


def test_twelve_year_old_cannot_hold_an_account_and_may_do_nothing() -> None:
    result = caps(person(12))
    hold = result["hold_account"]
    assert (hold.allowed, hold.value, hold.reason) == (
        False,
        AccountStatus.UNDER_AGE_REVIEW,
        Reason.UNDER_MINIMUM_AGE,
    )
    for name, cap in result.items():
        assert not cap.allowed, name
        assert cap.reason is Reason.UNDER_MINIMUM_AGE


def test_fifteen_year_old_in_australia_is_below_the_minimum_age() -> None:
    assert caps(person(15, "AU"))["hold_account"].reason is Reason.UNDER_MINIMUM_AGE
    assert caps(person(15, "NZ"))["hold_account"].allowed


def test_account_in_under_age_review_may_do_nothing() -> None:
    result = caps(person(14, status=AccountStatus.UNDER_AGE_REVIEW))
    assert not any(cap.allowed for cap in result.values())
    assert result["comments"].reason is Reason.UNDER_MINIMUM_AGE


@pytest.mark.parametrize("status", [AccountStatus.SUSPENDED, AccountStatus.BANNED])
def test_suspended_or_banned_account_may_do_nothing_interactive(status: AccountStatus) -> None:
    result = caps(person(30, status=status))
    for name, cap in result.items():
        assert not cap.allowed, name
        assert cap.reason is Reason.ACCOUNT_RESTRICTED
    assert result["comments"].value is NOBODY
    assert result["hold_account"].value is status


def test_restricted_account_may_not_message_but_may_still_post() -> None:
    result = caps(person(30, status=AccountStatus.RESTRICTED))
    assert result["hold_account"].allowed
    assert result["direct_messages"].reason is Reason.ACCOUNT_RESTRICTED
    assert result["group_threads"].reason is Reason.ACCOUNT_RESTRICTED
    assert result["comments"].allowed
    assert result["livestream"].allowed


@pytest.mark.parametrize(
    ("feature", "capability"),
    [
        (Feature.DIRECT_MESSAGES, "direct_messages"),
        (Feature.COMMENTS, "comments"),
        (Feature.LIVESTREAM, "livestream"),
        (Feature.GIFTS, "gifts"),
    ],
)
def test_a_moderation_restriction_closes_its_feature(feature: Feature, capability: str) -> None:
    result = caps(person(30, restricted_features=frozenset({feature})))
    assert result[capability].reason is Reason.FEATURE_RESTRICTED
    assert not result[capability].allowed
    others = [c for n, c in result.items() if n not in {capability, "group_threads"}]
    assert all(c.reason is not Reason.FEATURE_RESTRICTED for c in others)


def test_fifteen_year_old_may_not_message_livestream_or_be_recommended() -> None:
    result = caps(person(15))
    for name in ("direct_messages", "group_threads", "recommendation_feed", "livestream"):
        assert result[name].reason is Reason.TIER_NOT_ELIGIBLE, name
    assert result["duet_stitch"].reason is Reason.TIER_NOT_ELIGIBLE
    assert result["downloads"].reason is Reason.TIER_NOT_ELIGIBLE
    assert result["comments"].allowed


def test_sixteen_year_old_may_message_friends_once_they_turn_it_on() -> None:
    default = caps(person(16))["direct_messages"]
    assert (default.allowed, default.reason) == (False, Reason.DM_SENDER_SETTING)
    opened = caps(person(16, settings=with_settings(Tier.OLDER_TEEN, dm_setting=FRIENDS)))
    assert (opened["direct_messages"].allowed, opened["direct_messages"].value) == (True, FRIENDS)


def test_stored_setting_above_the_ceiling_is_capped_and_says_why() -> None:
    teen = person(17, settings=with_settings(Tier.ADULT, dm_setting=EVERYONE))
    dm = caps(teen)["direct_messages"]
    assert (dm.allowed, dm.value, dm.reason) == (True, FRIENDS, Reason.SETTING_ABOVE_TIER_CEILING)


def test_gifts_are_for_18_and_over_and_19_in_korea() -> None:
    assert caps(person(17))["gifts"].reason is Reason.BELOW_GIFT_AGE
    assert caps(person(18))["gifts"].allowed
    assert caps(person(18, "KR"))["gifts"].reason is Reason.BELOW_GIFT_AGE
    assert caps(person(19, "KR"))["gifts"].allowed


def test_personalised_ads_are_off_for_every_minor() -> None:
    assert caps(person(17, "US"))["personalised_ads"].reason is Reason.TIER_NOT_ELIGIBLE
    assert caps(person(18, "US"))["personalised_ads"].allowed


def test_fourteen_year_old_in_germany_needs_a_guardians_consent_for_personalisation() -> None:
    teen = person(14, "DE")
    result = caps(teen)
    assert result["personalisation"].reason is Reason.GUARDIAN_CONSENT_REQUIRED
    assert result["suggest_account"].reason is Reason.GUARDIAN_CONSENT_REQUIRED
    consented = caps(dataclasses.replace(teen, guardian_consent=True))
    assert consented["personalisation"].allowed
    # ... and a guardian's consent does not unlock suggestions: they are locked for 13-15 (§7.4).
    assert consented["suggest_account"].reason is Reason.TIER_NOT_ELIGIBLE


def test_fourteen_year_old_in_spain_or_the_us_needs_no_consent() -> None:
    assert caps(person(14, "ES"))["personalisation"].allowed  # consent age 14
    assert caps(person(14, "US"))["personalisation"].allowed  # no consent age outside EU/EEA


# --- capabilities: monotonicity -------------------------------------------------------------------

COUNTRIES = ["GB", "DE", "FR", "ES", "US", "AU", "KR"]
STATUS_STRICTNESS = {
    AccountStatus.ACTIVE: 0,
    AccountStatus.RESTRICTED: 1,
    AccountStatus.SUSPENDED: 2,
    AccountStatus.BANNED: 2,
    AccountStatus.UNDER_AGE_REVIEW: 2,
}


def no_looser(stricter: Capability, looser: Capability) -> bool:
    """`stricter` opens nothing that `looser` keeps shut (POLICY.md §3 "most restrictive")."""
    if stricter.allowed and not looser.allowed:
        return False
    name, a, b = stricter.name, stricter.value, looser.value
    if name == "hold_account" or (a is None and b is None):
        return True
    if name in ("direct_messages", "group_threads", "comments", "duet_stitch"):
        return openness("dm_setting", a) <= openness("dm_setting", b)
    if name == "suggested_to":
        return a.rank <= b.rank  # type: ignore[union-attr]
    if name in ("private_account", "downloads", "suggest_account", "connection_lists"):
        key = "private_account" if name == "private_account" else "download_setting"
        return openness(key, a) <= openness(key, b)
    if name == "quiet_hours":
        return rules.guardianship.quiet_hours_cover(a, b)  # type: ignore[arg-type]
    if name == "daily_screen_time_limit":
        return b is None or (a is not None and a <= b)  # type: ignore[operator]
    if name == "non_profiling_feed":
        return True  # an option offered, never a permission that opens anything
    return a == b


# Guardian windows of the kind parents set: an evening start and a morning end, or the whole day.
guardian_windows = st.one_of(
    st.builds(
        lambda s, e: (T(18 + s // 2, 30 * (s % 2)), T(6 + e // 2, 30 * (e % 2))),
        st.integers(0, 11),
        st.integers(0, 8),
    ),
    st.just((T(0), T(0))),
)


@st.composite
def user_facts(draw: st.DrawFn) -> tuple[UserFacts, dt.date]:
    on = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
    age = draw(st.sampled_from([10, 12, 13, 14, 15, 16, 17, 18, 19, 25]))
    birthdate = rules.ages.latest_birthdate_for_age(age, on) - dt.timedelta(
        days=draw(st.sampled_from([0, 1, 180, 364]))
    )
    limits = draw(
        st.one_of(
            st.none(),
            st.builds(
                GuardianLimits,
                st.booleans(),
                st.one_of(st.none(), st.integers(0, 90)),
                st.one_of(st.none(), guardian_windows),
            ),
        )
    )
    facts = UserFacts(
        birthdate=birthdate,
        country=draw(st.sampled_from(COUNTRIES)),
        status=draw(st.sampled_from(list(AccountStatus))),
        settings=draw(st.one_of(st.none(), safety_settings())),
        guardian_limits=limits,
        guardian_consent=draw(st.booleans()),
        restricted_features=draw(st.frozensets(st.sampled_from(list(Feature)))),
    )
    return facts, on


def tighten_status(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    level = STATUS_STRICTNESS[facts.status]
    stricter = [s for s, n in STATUS_STRICTNESS.items() if n >= level]
    return dataclasses.replace(facts, status=data.draw(st.sampled_from(stricter)))


def tighten_setting(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    current = facts.settings or rules.safety_settings.default_settings(
        rules.ages.tier_on(facts.birthdate, on)
    )
    name = data.draw(st.sampled_from(rules.safety_settings.SETTING_NAMES))
    value = getattr(current, name)
    options = [v for v in setting_values[name] if openness(name, v) <= openness(name, value)]
    return dataclasses.replace(
        facts, settings=dataclasses.replace(current, **{name: data.draw(st.sampled_from(options))})
    )


def tighten_guardian(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    limits = facts.guardian_limits or GuardianLimits()
    what = data.draw(st.sampled_from(["dm_off", "minutes", "quiet"]))
    if what == "dm_off":
        limits = dataclasses.replace(limits, dm_off=True)
    elif what == "minutes":
        cap = limits.daily_screen_time_minutes
        limits = dataclasses.replace(
            limits, daily_screen_time_minutes=data.draw(st.integers(0, 90 if cap is None else cap))
        )
    else:
        wider = data.draw(guardian_windows)
        old = limits.quiet_hours
        if old is not None and not rules.guardianship.quiet_hours_cover(wider, old):
            start = min(old[0], wider[0])  # both evening starts: the earlier one
            end = max(old[1], wider[1])  # both morning ends: the later one
            wider = (T(0), T(0)) if (T(0), T(0)) in (old, wider) else (start, end)
        limits = dataclasses.replace(limits, quiet_hours=wider)
    return dataclasses.replace(facts, guardian_limits=limits)


def withdraw_consent(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    return dataclasses.replace(facts, guardian_consent=False)


def restrict_feature(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    feature = data.draw(st.sampled_from(list(Feature)))
    return dataclasses.replace(facts, restricted_features=facts.restricted_features | {feature})


def make_younger(facts: UserFacts, data: st.DataObject, on: dt.date) -> UserFacts:
    later = facts.birthdate + dt.timedelta(days=data.draw(st.integers(1, 3000)))
    return dataclasses.replace(facts, birthdate=min(later, on))


TIGHTENINGS: list[Callable[[UserFacts, st.DataObject, dt.date], UserFacts]] = [
    tighten_status,
    tighten_setting,
    tighten_guardian,
    withdraw_consent,
    restrict_feature,
    make_younger,
]


@settings(max_examples=600, deadline=None)
@given(user_facts(), st.sampled_from(TIGHTENINGS), st.data())
def test_capabilities_never_loosen_when_any_one_input_is_made_stricter(
    facts_on: tuple[UserFacts, dt.date],
    tighten: Callable[[UserFacts, st.DataObject, dt.date], UserFacts],
    data: st.DataObject,
) -> None:
    facts, on = facts_on
    before = rules.capabilities.capabilities(facts, on=on)
    after = rules.capabilities.capabilities(tighten(facts, data, on), on=on)
    for name in rules.capabilities.CAPABILITY_NAMES:
        assert no_looser(after[name], before[name]), (name, before[name], after[name])


@settings(max_examples=300, deadline=None)
@given(user_facts())
def test_capabilities_are_total_and_every_refusal_has_a_reason(
    facts_on: tuple[UserFacts, dt.date],
) -> None:
    facts, on = facts_on
    result = rules.capabilities.capabilities(facts, on=on)
    assert tuple(result) == rules.capabilities.CAPABILITY_NAMES
    assert all(cap.allowed or cap.reason is not None for cap in result.values())
    if rules.ages.is_below_minimum_age(facts.birthdate, facts.country, on):
        assert not any(cap.allowed for cap in result.values())
