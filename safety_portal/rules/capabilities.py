"""Capabilities (POLICY.md §3): the effective value of every row of the table, with the reason code
when something is refused. The most restrictive of tier, jurisdiction, guardian, moderation
restriction and the user's own setting wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Final

from . import assurance, jurisdictions
from .ages import ADULT_AGE, age_on, tier_for_age
from .assurance import AssuranceResult, Requirement, Strength
from .guardianship import (
    _TIER_QUIET_HOURS,
    _TIER_SCREEN_TIME_MINUTES,
    GuardianLimits,
    QuietHours,
    _min_minutes,
    _quiet_hours_union,
    reminder_dismissable,
)
from .jurisdictions import JurisdictionRule
from .safety_settings import (
    _CEILINGS,
    _STRICTEST,
    SafetySettings,
    clamp_setting,
    clamp_settings,
    default_settings,
)
from .vocabulary import AccountStatus, Audience, Feature, Reason, SuggestionReach, Tier


@dataclass(frozen=True)
class UserFacts:
    """Everything the policy needs to know about one person, gathered by the caller.

    `settings` None means the tier defaults. `restricted_features` are the moderation restrictions
    in force on the date the question is asked. `created_on` is the day the account was made and
    `assurance` its age-assurance results (POLICY.md §7.2); callers read the results of the
    people `rules.assurance.needs_results` names, and an empty tuple means none were found.
    """

    birthdate: date
    country: str
    status: AccountStatus = AccountStatus.ACTIVE
    settings: SafetySettings | None = None
    guardian_limits: GuardianLimits | None = None
    guardian_consent: bool = False
    restricted_features: frozenset[Feature] = field(default_factory=frozenset)
    created_on: date | None = None
    assurance: tuple[AssuranceResult, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "assurance", tuple(self.assurance))
        object.__setattr__(self, "country", jurisdictions.normalise_country(self.country))
        object.__setattr__(self, "status", AccountStatus(self.status))
        features: Iterable[Feature | str] = self.restricted_features
        object.__setattr__(self, "restricted_features", frozenset(Feature(f) for f in features))


@dataclass(frozen=True)
class Capability:
    """One row of the POLICY.md §3 table for one person on one date.

    `allowed` says whether the person may use it; `value` is the effective setting or limit where
    the row has one; `reason` is set whenever something is refused, or limited below what the
    person asked for (a stored setting above the tier ceiling, a guardian's restriction).
    """

    name: str
    allowed: bool
    value: object | None = None
    reason: Reason | None = None
    dismissable: bool | None = None  # reminders and quiet hours: may the person dismiss them?
    # POLICY.md §7.2: with reason assurance_required, the rung of the ladder still missing.
    required_strength: Strength | None = None

    def __post_init__(self) -> None:
        if not self.allowed and self.reason is None:
            raise ValueError(f"capability {self.name!r} is refused without a reason")


CAPABILITY_NAMES: Final[tuple[str, ...]] = (
    "hold_account",
    "direct_messages",
    "group_threads",
    "private_account",
    "comments",
    "duet_stitch",
    "downloads",
    "recommendation_feed",
    "suggest_account",
    "suggested_to",
    "connection_lists",
    "non_profiling_feed",
    "livestream",
    "gifts",
    "personalised_ads",
    "personalisation",
    "quiet_hours",
    "daily_screen_time_limit",
)


class _Resolved:
    """Facts turned into what every rule reads: age, tier and effective values.

    Each value is worked out the first time a rule reads it and then kept. A direct message reads
    the age, the tier, the minimum age and the DM audience of two people on every send (the hot
    path, bench/bench_messaging.py); working out the gift and advertising ages and the assurance
    gaps as well, which no messaging rule reads, was a third of the send's time in Python.
    `table` is the jurisdiction table (POLICY.md §7.1); tests pass one with a proposed rule dated.
    """

    def __init__(self, facts: UserFacts, on: date, table: tuple[JurisdictionRule, ...]) -> None:
        self.facts, self.on, self.table = facts, on, table

    @cached_property
    def age(self) -> int:
        return age_on(self.facts.birthdate, self.on)

    @cached_property
    def tier(self) -> Tier:
        return tier_for_age(self.age)

    @cached_property
    def below_minimum_age(self) -> bool:
        floor = jurisdictions.account_floor_age(self.facts.country, on=self.on, table=self.table)
        return self.age < floor

    @cached_property
    def hold_needs_consent(self) -> bool:
        """In a guardian-consent band (POLICY.md §7.1) without the consent."""
        band = jurisdictions.guardian_consent_band(self.facts.country, on=self.on, table=self.table)
        return band is not None and self.age in band and not self.facts.guardian_consent

    @cached_property
    def gift_minimum_age(self) -> int:
        return jurisdictions.gift_minimum_age(self.facts.country, on=self.on, table=self.table)

    @cached_property
    def ads_minimum_age(self) -> int:
        return jurisdictions.personalised_ads_minimum_age(
            self.facts.country, on=self.on, table=self.table
        )

    @cached_property
    def requested(self) -> SafetySettings:
        """Own settings, or the tier defaults."""
        settings = self.facts.settings
        return settings if settings is not None else default_settings(self.tier)

    @cached_property
    def clamped(self) -> SafetySettings:
        """The requested settings capped by the tier ceiling."""
        return clamp_settings(self.requested, self.tier)

    @cached_property
    def guardian_dm_off(self) -> bool:
        limits = self.facts.guardian_limits
        return limits is not None and limits.dm_off

    @cached_property
    def consent_required(self) -> bool:
        """Below the digital-consent age without a guardian's consent."""
        consent_age = jurisdictions.digital_consent_age(
            self.facts.country, on=self.on, table=self.table
        )
        return (
            consent_age is not None and self.age < consent_age and not self.facts.guardian_consent
        )

    def _missing(self, requirement: Requirement | None) -> Strength | None:
        if requirement is None:
            return None
        facts = self.facts
        return assurance.missing_strength(
            facts.assurance, requirement, country=facts.country, on=self.on
        )

    @cached_property
    def _age_at_sign_up(self) -> int | None:
        created_on = self.facts.created_on
        return None if created_on is None else assurance.age_at(self.facts.birthdate, created_on)

    @cached_property
    def hold_assurance(self) -> Strength | None:
        """The strength missing to hold the account (POLICY.md §7.2)."""
        requirement = assurance.hold_account_requirement(
            self.facts.country, age=self.age, on=self.on, table=self.table
        )
        return self._missing(requirement)

    @cached_property
    def livestream_assurance(self) -> Strength | None:
        """The strength missing to unlock livestream for an account made under 18."""
        return self._missing(
            assurance.adult_feature_requirement(
                feature_age=ADULT_AGE, age_at_sign_up=self._age_at_sign_up
            )
        )

    @cached_property
    def gifts_assurance(self) -> Strength | None:
        """The strength missing to unlock gifts for an account made under 18."""
        return self._missing(
            assurance.adult_feature_requirement(
                feature_age=self.gift_minimum_age, age_at_sign_up=self._age_at_sign_up
            )
        )

    @cached_property
    def dm_audience(self) -> Audience:
        """Who may message this person: tier ceiling, guardian and own setting (POLICY.md §3)."""
        if self.guardian_dm_off:
            return Audience.NOBODY
        return clamp_setting(self.requested, self.tier, "dm_setting")  # type: ignore[return-value]

    def restricts(self, feature: Feature) -> bool:
        return feature in self.facts.restricted_features


def _resolve(
    facts: UserFacts, on: date, table: Iterable[JurisdictionRule] = jurisdictions.TABLE
) -> _Resolved:
    """`table` is the jurisdiction table (POLICY.md §7.1); tests pass one with a proposed rule dated."""
    return _Resolved(facts, on, tuple(table))


def _lockdown_reason(r: _Resolved) -> Reason | None:
    """Why nothing interactive is allowed at all, if that is the case (POLICY.md §3, §4).

    Below the country's minimum age: UNDER_MINIMUM_AGE (the account goes to under_age_review). In
    the country's guardian-consent band without a guardian's consent (POLICY.md §7.1):
    GUARDIAN_CONSENT_REQUIRED (under_age_review too, until a guardian consents). Already in
    under_age_review: UNDER_MINIMUM_AGE. Suspended or banned: ACCOUNT_RESTRICTED. The age reasons
    win because they are what the account's notice and appeal are about.
    """
    status = r.facts.status
    if r.below_minimum_age:
        return Reason.UNDER_MINIMUM_AGE
    if r.hold_needs_consent:
        return Reason.GUARDIAN_CONSENT_REQUIRED
    if status is AccountStatus.UNDER_AGE_REVIEW:
        return Reason.UNDER_MINIMUM_AGE
    if status in (AccountStatus.SUSPENDED, AccountStatus.BANNED):
        return Reason.ACCOUNT_RESTRICTED
    return None


def _cap_hold_account(r: _Resolved) -> Capability:
    """POLICY.md §3 row 1. `value` is the status the account should be in.

    Where the minimum age is above 13 (§7.2: AU; FR/DK once in force) an account without a result
    of facial_estimation or stronger proving its age is refused with ASSURANCE_REQUIRED and the
    missing strength. Only this row says so: the status stays (`value`), because §7.3 gives the
    holder a grace window to provide assurance, and moving the account is the sweep's and staff's
    decision, not this answer's.
    """
    status = r.facts.status
    if r.below_minimum_age or r.hold_needs_consent:
        target = status if status is AccountStatus.BANNED else AccountStatus.UNDER_AGE_REVIEW
        return Capability("hold_account", False, target, _lockdown_reason(r))
    reason = _lockdown_reason(r)
    if reason is not None:
        return Capability("hold_account", False, status, reason)
    if r.hold_assurance is not None:
        return Capability(
            "hold_account",
            False,
            status,
            Reason.ASSURANCE_REQUIRED,
            required_strength=r.hold_assurance,
        )
    return Capability("hold_account", True, status)


def _assurance_refusal(name: str, missing: Strength | None) -> Capability | None:
    """POLICY.md §7.2: an 18+ feature for an account created under 18 needs id_document or
    age_token; refused with ASSURANCE_REQUIRED naming the missing strength."""
    if missing is None:
        return None
    return Capability(name, False, None, Reason.ASSURANCE_REQUIRED, required_strength=missing)


def _messaging_refusal(r: _Resolved) -> Reason | None:
    """Refusals shared by direct messages and group threads, in precedence order (POLICY.md §3)."""
    if r.tier < Tier.OLDER_TEEN:
        return Reason.TIER_NOT_ELIGIBLE
    if r.facts.status is AccountStatus.RESTRICTED:
        return Reason.ACCOUNT_RESTRICTED
    if r.restricts(Feature.DIRECT_MESSAGES):
        return Reason.FEATURE_RESTRICTED
    if r.guardian_dm_off:
        return Reason.GUARDIAN_RESTRICTED
    return None


def _ceiling_reason(r: _Resolved, name: str) -> Reason | None:
    """SETTING_ABOVE_TIER_CEILING when the stored setting is looser than the tier allows."""
    if getattr(r.clamped, name) != getattr(r.requested, name):
        return Reason.SETTING_ABOVE_TIER_CEILING
    return None


def _cap_direct_messages(r: _Resolved) -> Capability:
    """POLICY.md §3 "send or receive direct messages".

    `allowed`: the person may take part in DMs at all. `value`: who may message them (their
    effective DM audience; NOBODY whenever they cannot receive). A 16-17-year-old whose own
    effective setting is nobody neither sends nor receives (DM_SENDER_SETTING); an adult with
    "nobody" may still write to others within the other side's rules.
    """
    refusal = _messaging_refusal(r)
    if refusal is not None:
        return Capability("direct_messages", False, Audience.NOBODY, refusal)
    audience = r.dm_audience
    if r.tier is Tier.OLDER_TEEN and audience is Audience.NOBODY:
        return Capability("direct_messages", False, Audience.NOBODY, Reason.DM_SENDER_SETTING)
    return Capability("direct_messages", True, audience, _ceiling_reason(r, "dm_setting"))


def _cap_group_threads(r: _Resolved) -> Capability:
    """POLICY.md §3 "be added to a group thread"; `value` is who may add them (= DM audience).

    Being added to a group is being reachable by its members, so the same audience that may
    message a person may add them: 16-17 only by a friend, and nobody if their DM setting says so.
    """
    refusal = _messaging_refusal(r)
    if refusal is not None:
        return Capability("group_threads", False, Audience.NOBODY, refusal)
    audience = r.dm_audience
    if audience is Audience.NOBODY:
        return Capability("group_threads", False, Audience.NOBODY, Reason.DM_RECIPIENT_SETTING)
    return Capability("group_threads", True, audience, _ceiling_reason(r, "dm_setting"))


def _setting_capability(
    r: _Resolved, cap: str, setting: str, feature: Feature | None = None
) -> Capability:
    """A row that opens something to others: refused when moderation or the tier keeps it shut."""
    strictest = getattr(_STRICTEST, setting)
    if feature is not None and r.restricts(feature):
        return Capability(cap, False, strictest, Reason.FEATURE_RESTRICTED)
    if getattr(_CEILINGS[r.tier], setting) == strictest:
        return Capability(cap, False, strictest, Reason.TIER_NOT_ELIGIBLE)
    return Capability(cap, True, getattr(r.clamped, setting), _ceiling_reason(r, setting))


def _cap_private_account(r: _Resolved) -> Capability:
    """POLICY.md §3 "account private by default": a default for teens, not a lock.

    Being private is the protective value, so the row is always allowed; `value` is True when the
    account is private.
    """
    value = r.clamped.private_account
    return Capability("private_account", True, value, _ceiling_reason(r, "private_account"))


def _cap_comments(r: _Resolved) -> Capability:
    """POLICY.md §3 "who may comment on their videos"; a comments restriction closes them."""
    return _setting_capability(r, "comments", "comment_setting", Feature.COMMENTS)


def _cap_duet_stitch(r: _Resolved) -> Capability:
    """POLICY.md §3 "duet / stitch": off and locked for 13-15."""
    return _setting_capability(r, "duet_stitch", "duet_setting")


def _cap_downloads(r: _Resolved) -> Capability:
    """POLICY.md §3 "others may download their videos": off and locked for 13-15."""
    return _setting_capability(r, "downloads", "download_setting")


def _cap_recommendation_feed(r: _Resolved) -> Capability:
    """POLICY.md §3 "eligible for the recommendation feed": 16 and over."""
    if r.tier < Tier.OLDER_TEEN:
        return Capability("recommendation_feed", False, None, Reason.TIER_NOT_ELIGIBLE)
    return Capability("recommendation_feed", True)


def _cap_suggest_account(r: _Resolved) -> Capability:
    """POLICY.md §3 "account suggested to others" and §5: a consent-based feature.

    Below the country's digital-consent age it stays off until a linked guardian consents.
    """
    if r.consent_required:
        return Capability("suggest_account", False, False, Reason.GUARDIAN_CONSENT_REQUIRED)
    return _setting_capability(r, "suggest_account", "suggest_account")


def _cap_suggested_to(r: _Resolved) -> Capability:
    """POLICY.md §7.4: whom the account is suggested to. Off when `suggest_account` is; a minor's
    account reaches existing connections only; an adult's, everyone."""
    suggest = _cap_suggest_account(r)
    if not suggest.allowed:
        return Capability("suggested_to", False, SuggestionReach.NOBODY, suggest.reason)
    if not suggest.value:
        return Capability("suggested_to", True, SuggestionReach.NOBODY)
    if r.tier < Tier.ADULT:
        return Capability("suggested_to", True, SuggestionReach.CONNECTIONS)
    return Capability("suggested_to", True, SuggestionReach.EVERYONE)


def _cap_connection_lists(r: _Resolved) -> Capability:
    """POLICY.md §7.4 "connection lists visible to others": hidden and locked for 13-15, hidden
    by default for 16-17; `value` True when others can see who they follow and who follows them."""
    return _setting_capability(r, "connection_lists", "connections_visible")


def _cap_non_profiling_feed(r: _Resolved) -> Capability:
    """POLICY.md §7.4 (DSA art. 28 guidelines, art. 38): a feed not based on profiling is always
    offered, to everyone who may use the app at all."""
    return Capability("non_profiling_feed", True, True)


def _cap_livestream(r: _Resolved) -> Capability:
    """POLICY.md §3 "host a livestream": adults only; a moderator can restrict it."""
    if r.tier < Tier.ADULT:
        return Capability("livestream", False, None, Reason.TIER_NOT_ELIGIBLE)
    if refused := _assurance_refusal("livestream", r.livestream_assurance):
        return refused
    if r.restricts(Feature.LIVESTREAM):
        return Capability("livestream", False, None, Reason.FEATURE_RESTRICTED)
    return Capability("livestream", True)


def _cap_gifts(r: _Resolved) -> Capability:
    """POLICY.md §2/§3 virtual gifts: 18, KR 19; a moderator can restrict them."""
    if r.age < r.gift_minimum_age:
        return Capability("gifts", False, None, Reason.BELOW_GIFT_AGE)
    if refused := _assurance_refusal("gifts", r.gifts_assurance):
        return refused
    if r.restricts(Feature.GIFTS):
        return Capability("gifts", False, None, Reason.FEATURE_RESTRICTED)
    return Capability("gifts", True)


def _cap_personalised_ads(r: _Resolved) -> Capability:
    """POLICY.md §2: personalised advertising is off for every minor (DSA art. 28(2))."""
    if r.age < r.ads_minimum_age:
        return Capability("personalised_ads", False, None, Reason.TIER_NOT_ELIGIBLE)
    return Capability("personalised_ads", True)


def _cap_personalisation(r: _Resolved) -> Capability:
    """POLICY.md §5: consent-based personalisation needs a guardian below the consent age."""
    if r.consent_required:
        return Capability("personalisation", False, None, Reason.GUARDIAN_CONSENT_REQUIRED)
    return Capability("personalisation", True)


def _quiet_hours_value(r: _Resolved) -> QuietHours | None:
    limits = r.facts.guardian_limits
    return _quiet_hours_union(
        _TIER_QUIET_HOURS[r.tier], limits.quiet_hours if limits is not None else None
    )


def _screen_time_value(r: _Resolved) -> int | None:
    limits = r.facts.guardian_limits
    return _min_minutes(
        _TIER_SCREEN_TIME_MINUTES[r.tier],
        limits.daily_screen_time_minutes if limits is not None else None,
    )


def _cap_quiet_hours(r: _Resolved) -> Capability:
    """POLICY.md §3/§5: the tier's window, widened (never narrowed) by a guardian; 13-15 cannot
    dismiss it (§7.4)."""
    value = _quiet_hours_value(r)
    reason = Reason.GUARDIAN_RESTRICTED if value != _TIER_QUIET_HOURS[r.tier] else None
    return Capability("quiet_hours", True, value, reason, reminder_dismissable(r.tier))


def _cap_daily_screen_time_limit(r: _Resolved) -> Capability:
    """POLICY.md §3/§5: the tier's default, shortened (never lengthened) by a guardian; the
    reminder cannot be dismissed by 13-15 (§7.4), only by 16-17."""
    value = _screen_time_value(r)
    reason = Reason.GUARDIAN_RESTRICTED if value != _TIER_SCREEN_TIME_MINUTES[r.tier] else None
    return Capability("daily_screen_time_limit", True, value, reason, reminder_dismissable(r.tier))


_ROWS: Final[dict[str, Callable[[_Resolved], Capability]]] = {
    "hold_account": _cap_hold_account,
    "direct_messages": _cap_direct_messages,
    "group_threads": _cap_group_threads,
    "private_account": _cap_private_account,
    "comments": _cap_comments,
    "duet_stitch": _cap_duet_stitch,
    "downloads": _cap_downloads,
    "recommendation_feed": _cap_recommendation_feed,
    "suggest_account": _cap_suggest_account,
    "suggested_to": _cap_suggested_to,
    "connection_lists": _cap_connection_lists,
    "non_profiling_feed": _cap_non_profiling_feed,
    "livestream": _cap_livestream,
    "gifts": _cap_gifts,
    "personalised_ads": _cap_personalised_ads,
    "personalisation": _cap_personalisation,
    "quiet_hours": _cap_quiet_hours,
    "daily_screen_time_limit": _cap_daily_screen_time_limit,
}
assert tuple(_ROWS) == CAPABILITY_NAMES

# The value a row shows when everything is refused: the strictest one it can take.
_LOCKED_VALUES: Final[dict[str, object | None]] = {
    "direct_messages": Audience.NOBODY,
    "group_threads": Audience.NOBODY,
    "private_account": True,
    "comments": Audience.NOBODY,
    "duet_stitch": Audience.NOBODY,
    "downloads": False,
    "suggest_account": False,
    "suggested_to": SuggestionReach.NOBODY,
    "connection_lists": False,
}
# Protections (not permissions) keep showing their effective value under lock-down.
_PROTECTIONS: Final = frozenset({"quiet_hours", "daily_screen_time_limit"})


def capabilities(
    facts: UserFacts, *, on: date, table: Iterable[JurisdictionRule] = jurisdictions.TABLE
) -> dict[str, Capability]:
    """What the person may do on `on`, and why not: one Capability per CAPABILITY_NAMES entry.

    POLICY.md §3: the effective value of each row is the most restrictive of the tier ceiling, the
    jurisdiction (§2: minimum age, gift age, digital-consent age), a guardian's restriction (§5), an
    active moderation restriction, and the person's own setting. Precedence of reasons within a row
    follows that list, after the account-wide lock-down:

    - below the country's minimum age, or status under_age_review: hold_account refused
      (value = the status the account should move to), every other row refused, UNDER_MINIMUM_AGE;
    - status suspended or banned: everything refused, ACCOUNT_RESTRICTED;
    - status restricted: direct messages and group threads refused, ACCOUNT_RESTRICTED.

    Quiet hours and the screen-time limit are protections, not permissions: under lock-down they are
    reported refused with their (still effective) values.
    """
    r = _resolve(facts, on, table)
    lockdown = _lockdown_reason(r)
    result: dict[str, Capability] = {}
    for name, row in _ROWS.items():
        cap = row(r)
        if lockdown is not None and name != "hold_account":
            value = _LOCKED_VALUES.get(name, cap.value if name in _PROTECTIONS else None)
            cap = Capability(name, False, value, lockdown, cap.dismissable)
        result[name] = cap
    return result
