"""The minor-protection policy of POLICY.md, as pure functions.

One rule, one place: managers, views, serializers, admin forms and tasks ask this module what a
person may do and why not; none of them re-implements a rule. The module is pure so that every
rule can be tested exhaustively and cheaply: no Django, no ORM, no I/O, and no clock — the reference
date is always an argument (POLICY.md §1: "today" is the portal's date, and the caller owns it).

Sections, in file order:
- vocabulary (enums, refusal codes, `Decision`)
- age and tiers (POLICY.md §1, §2)
- safety settings and their tier ceilings (POLICY.md §3)
- guardian limits (POLICY.md §5)
- capabilities: the effective value of every row of the POLICY.md §3 table
- contact: direct messages and group threads (POLICY.md §3, "Contact between adults and minors")
- birthdate changes (POLICY.md §4)
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import Final

from . import jurisdictions

# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------


class _RankedStrEnum(StrEnum):
    """A string enum ordered by declaration, not alphabetically.

    Plain `StrEnum` members compare as strings, which would make `"everyone" < "nobody"`. The
    policy's enums have a meaningful order (strictness, age), so comparisons use `rank`. A plain
    string that is a valid value is compared as that member; anything else is not comparable.
    """

    @property
    def rank(self) -> int:
        """Position in declaration order (0 = first)."""
        return type(self)._member_names_.index(self.name)

    def _other_rank(self, other: object) -> int | None:
        if isinstance(other, type(self)):
            return other.rank
        if isinstance(other, str) and not isinstance(other, StrEnum):
            try:
                return type(self)(other).rank
            except ValueError:
                return None
        return None

    def __lt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank >= rank


class Tier(_RankedStrEnum):
    """Age tiers of POLICY.md §1, ordered youngest first (`Tier.CHILD < Tier.ADULT`)."""

    CHILD = "child"
    YOUNG_TEEN = "young_teen"
    OLDER_TEEN = "older_teen"
    ADULT = "adult"


class AccountStatus(StrEnum):
    """Lifecycle of an app account (POLICY.md §3 "hold an active account", §4, §6)."""

    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    BANNED = "banned"
    UNDER_AGE_REVIEW = "under_age_review"


class Audience(_RankedStrEnum):
    """Who a setting lets in, ordered strictest first: `NOBODY < FRIENDS < EVERYONE`."""

    NOBODY = "nobody"
    FRIENDS = "friends"  # mutual follow (POLICY.md §3)
    EVERYONE = "everyone"


class Feature(StrEnum):
    """Features a moderator can restrict one by one (POLICY.md §3 "moderation restriction")."""

    DIRECT_MESSAGES = "direct_messages"
    COMMENTS = "comments"
    LIVESTREAM = "livestream"
    GIFTS = "gifts"


class AssuranceMethod(StrEnum):
    """How a birthdate was established (POLICY.md §4)."""

    SELF_DECLARED = "self_declared"
    FACIAL_ESTIMATION = "facial_estimation"
    ID_DOCUMENT = "id_document"
    PAYMENT_CARD = "payment_card"
    GUARDIAN_VOUCH = "guardian_vouch"


class Reason(StrEnum):
    """Stable refusal codes shared by the API, the admin and the tests (POLICY.md §3).

    Values are part of the public contract: add codes, never rename or reuse one.
    """

    UNDER_MINIMUM_AGE = "under_minimum_age"
    DM_SENDER_UNDER_16 = "dm_sender_under_16"
    DM_RECIPIENT_UNDER_16 = "dm_recipient_under_16"
    DM_NOT_FRIENDS = "dm_not_friends"
    DM_RECIPIENT_SETTING = "dm_recipient_setting"
    DM_SENDER_SETTING = "dm_sender_setting"
    DM_BLOCKED = "dm_blocked"
    ACCOUNT_RESTRICTED = "account_restricted"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    GROUP_ADD_NOT_FRIEND = "group_add_not_friend"
    GROUP_MEMBER_UNDER_16 = "group_member_under_16"
    SETTING_ABOVE_TIER_CEILING = "setting_above_tier_ceiling"
    SETTING_LOCKED_FOR_TIER = "setting_locked_for_tier"
    GUARDIAN_RESTRICTED = "guardian_restricted"
    GUARDIAN_CONSENT_REQUIRED = "guardian_consent_required"
    TIER_NOT_ELIGIBLE = "tier_not_eligible"
    BELOW_GIFT_AGE = "below_gift_age"
    FEATURE_RESTRICTED = "feature_restricted"
    METHOD_TOO_WEAK = "method_too_weak"
    BIRTHDATE_UNCHANGED = "birthdate_unchanged"
    GUARDIAN_LOOSENS = "guardian_loosens"


@dataclass(frozen=True)
class Decision:
    """The answer to "may this happen?": allowed, or refused with a stable reason code."""

    allowed: bool
    reason: Reason | None = None

    def __post_init__(self) -> None:
        if self.allowed == (self.reason is not None):
            raise ValueError("a Decision carries a reason exactly when it refuses")

    @classmethod
    def allow(cls) -> Decision:
        return cls(allowed=True)

    @classmethod
    def refuse(cls, reason: Reason) -> Decision:
        return cls(allowed=False, reason=reason)


# --------------------------------------------------------------------------------------------------
# Age and tiers (POLICY.md §1, §2)
# --------------------------------------------------------------------------------------------------

EARLIEST_BIRTHDATE: Final = date(1900, 1, 1)
YOUNG_TEEN_AGE: Final = 13
DM_MINIMUM_AGE: Final = 16  # direct messages and group threads (POLICY.md §3)
ADULT_AGE: Final = 18


class InvalidBirthdate(ValueError):
    """A birthdate that POLICY.md §1 calls invalid input.

    `code` is "future" or "before_1900". A date that is not a real calendar date (30 February) never
    gets this far: it cannot be a `datetime.date`, so parsing rejects it.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or f"invalid birthdate: {code}")
        self.code = code


def validate_birthdate(birthdate: date, *, on: date) -> None:
    """Raise InvalidBirthdate unless 1900-01-01 <= birthdate <= on (POLICY.md §1).

    Being born on `on` itself is valid (age 0); only a date after it is in the future.
    """
    if birthdate > on:
        raise InvalidBirthdate("future", f"{birthdate.isoformat()} is after {on.isoformat()}")
    if birthdate < EARLIEST_BIRTHDATE:
        raise InvalidBirthdate("before_1900", f"{birthdate.isoformat()} is before 1900-01-01")


def nth_birthday(birthdate: date, n: int) -> date:
    """The date on which someone born on `birthdate` turns `n` (POLICY.md §1).

    Someone born on 29 February turns a year older on 1 March in non-leap years: the later of the
    two candidate dates, so that a protection lasts a day longer rather than a day shorter.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    year = birthdate.year + n
    if (birthdate.month, birthdate.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return birthdate.replace(year=year)


def age_on(birthdate: date, on: date) -> int:
    """Whole years completed on `on` (POLICY.md §1).

    Raises InvalidBirthdate("future") for a birthdate after `on`: someone not yet born has no age,
    and a silent negative number would read as "younger than every threshold" in one place and as a
    bug in another.
    """
    if birthdate > on:
        raise InvalidBirthdate("future", f"{birthdate.isoformat()} is after {on.isoformat()}")
    years = on.year - birthdate.year
    if on < nth_birthday(birthdate, years):
        years -= 1
    return years


def latest_birthdate_for_age(age: int, on: date) -> date:
    """The cut-off birthdate for SQL range queries (POLICY.md §1: Python and SQL must agree).

    Everyone born on or before the returned date is at least `age` on `on`; everyone born after it
    (and not after `on`) is younger. So `birthdate <= cutoff` selects exactly the people for whom
    `age_on(birthdate, on) >= age`, including 29 February births, whose birthday is 1 March in
    non-leap years: on 28 February of a non-leap year a 29 February baby has not had a birthday yet,
    hence the cut-off is 28 February of the birth year, not 29 February.
    """
    if age < 0:
        raise ValueError("age must be >= 0")
    year = on.year - age
    if year < date.min.year:
        raise ValueError(f"no birthdate makes someone {age} on {on.isoformat()}")
    if (on.month, on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return on.replace(year=year)


def tier_for_age(age: int) -> Tier:
    """The POLICY.md §1 tier: child < 13, young_teen 13-15, older_teen 16-17, adult >= 18."""
    if age < 0:
        raise ValueError("age must be >= 0")
    if age < YOUNG_TEEN_AGE:
        return Tier.CHILD
    if age < DM_MINIMUM_AGE:
        return Tier.YOUNG_TEEN
    if age < ADULT_AGE:
        return Tier.OLDER_TEEN
    return Tier.ADULT


def tier_on(birthdate: date, on: date) -> Tier:
    """The tier of someone born on `birthdate`, on `on` (POLICY.md §1)."""
    return tier_for_age(age_on(birthdate, on))


def is_minor(birthdate: date, on: date) -> bool:
    """Under 18 on `on` (POLICY.md §1)."""
    return age_on(birthdate, on) < ADULT_AGE


def minor_summary(birthdate: date, on: date) -> dict[str, object] | None:
    """What the audit log keeps of a minor's birthdate: age and tier on `on` (decisions D4)."""
    age = age_on(birthdate, on)
    if age >= ADULT_AGE:
        return None
    return {"age": age, "tier": str(tier_for_age(age))}


def is_below_minimum_age(birthdate: date, country: str, on: date) -> bool:
    """Below the country's minimum age to hold an account (POLICY.md §2: 13, AU 16)."""
    return age_on(birthdate, on) < jurisdictions.minimum_age(country)


# --------------------------------------------------------------------------------------------------
# Safety settings (POLICY.md §3)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetySettings:
    """A user's own choices for the POLICY.md §3 settings.

    Strings that are valid Audience values are accepted and stored as Audience members, because the
    database hands back plain strings. Booleans must be real booleans.
    """

    dm_setting: Audience
    private_account: bool
    comment_setting: Audience
    duet_setting: Audience
    download_setting: bool
    suggest_account: bool

    def __post_init__(self) -> None:
        for name in SETTING_NAMES:
            object.__setattr__(self, name, _coerce_setting(name, getattr(self, name)))


SETTING_NAMES: Final[tuple[str, ...]] = (
    "dm_setting",
    "private_account",
    "comment_setting",
    "duet_setting",
    "download_setting",
    "suggest_account",
)
_AUDIENCE_SETTINGS: Final = frozenset({"dm_setting", "comment_setting", "duet_setting"})
# For these booleans True is the strict value; for the others False is.
_TRUE_IS_STRICT: Final = frozenset({"private_account"})


def _coerce_setting(name: str, value: object) -> Audience | bool:
    if name in _AUDIENCE_SETTINGS:
        if isinstance(value, str):
            return Audience(value)  # ValueError for anything but nobody/friends/everyone
        raise TypeError(f"{name} must be an Audience, not {type(value).__name__}")
    if name in SETTING_NAMES:
        if isinstance(value, bool):
            return value
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    raise ValueError(f"unknown setting {name!r}; expected one of {', '.join(SETTING_NAMES)}")


def _openness(name: str, value: Audience | bool) -> int:
    """How much a setting value lets in: 0 is the strictest value of that setting."""
    if isinstance(value, Audience):
        return value.rank
    return int(value != (name in _TRUE_IS_STRICT))


def _stricter(name: str, a: Audience | bool, b: Audience | bool) -> Audience | bool:
    return a if _openness(name, a) <= _openness(name, b) else b


_N, _F, _E = Audience.NOBODY, Audience.FRIENDS, Audience.EVERYONE

# The loosest value each tier may choose (POLICY.md §3). A ceiling equal to the strictest value
# means the setting is locked for the tier. A child has no account (it goes to under_age_review), so
# every setting is locked at its strictest.
_CEILINGS: Final[dict[Tier, SafetySettings]] = {
    Tier.CHILD: SafetySettings(_N, True, _N, _N, False, False),
    # 13-15: DMs nobody only; comments friends at most; duet/stitch and downloads off and locked.
    # "Private by default" and "suggestions off by default" are defaults, not locks.
    Tier.YOUNG_TEEN: SafetySettings(_N, False, _F, _N, False, True),
    # 16-17: DMs nobody or friends; everything else may be opened.
    Tier.OLDER_TEEN: SafetySettings(_F, False, _E, _E, True, True),
    Tier.ADULT: SafetySettings(_E, False, _E, _E, True, True),
}
_STRICTEST: Final = _CEILINGS[Tier.CHILD]

_DEFAULTS: Final[dict[Tier, SafetySettings]] = {
    Tier.CHILD: _STRICTEST,
    Tier.YOUNG_TEEN: SafetySettings(
        dm_setting=_N,
        private_account=True,
        comment_setting=_F,
        duet_setting=_N,
        download_setting=False,
        suggest_account=False,
    ),
    Tier.OLDER_TEEN: SafetySettings(
        dm_setting=_N,
        private_account=True,
        comment_setting=_E,
        duet_setting=_F,
        download_setting=False,
        suggest_account=False,
    ),
    # POLICY.md §3 says "any" for adults' duet/stitch and downloads; the defaults are the open ones.
    Tier.ADULT: SafetySettings(
        dm_setting=_F,
        private_account=False,
        comment_setting=_E,
        duet_setting=_E,
        download_setting=True,
        suggest_account=True,
    ),
}


def default_settings(tier: Tier) -> SafetySettings:
    """The POLICY.md §3 defaults for a new account of `tier` (a child's: the strictest values)."""
    return _DEFAULTS[tier]


def check_setting(tier: Tier, name: str, value: object) -> Reason | None:
    """May a user of `tier` choose `value` for setting `name`? (POLICY.md §3)

    None when allowed: any value at or below the tier ceiling, so tightening is always allowed.
    SETTING_LOCKED_FOR_TIER when the tier allows only the strictest value (13-15: DMs, duet/stitch,
    downloads); SETTING_ABOVE_TIER_CEILING when the tier has a choice but not this one (13-15
    comments "everyone", 16-17 DMs "everyone"). Unknown names and ill-typed values raise.
    """
    coerced = _coerce_setting(name, value)
    ceiling = getattr(_CEILINGS[tier], name)
    if _openness(name, coerced) <= _openness(name, ceiling):
        return None
    if ceiling == getattr(_STRICTEST, name):
        return Reason.SETTING_LOCKED_FOR_TIER
    return Reason.SETTING_ABOVE_TIER_CEILING


def clamp_settings(settings: SafetySettings, tier: Tier) -> SafetySettings:
    """Each setting capped at the tier ceiling (POLICY.md §3 "most restrictive of").

    Used when a lower tier is found later (a birthdate corrected to a younger age): stored values
    that the new tier may not have stop counting, and nothing else changes.
    """
    ceiling = _CEILINGS[tier]
    return SafetySettings(
        **{
            name: _stricter(name, getattr(settings, name), getattr(ceiling, name))
            for name in SETTING_NAMES
        }
    )


# --------------------------------------------------------------------------------------------------
# Quiet hours, screen time and guardian limits (POLICY.md §3, §5)
# --------------------------------------------------------------------------------------------------

# A local-time window [start, end) that wraps past midnight when end <= start. start == end is the
# whole day (a full turn of the clock), never an empty window: "no quiet hours" is None.
QuietHours = tuple[time, time]

_DAY_US: Final = 24 * 60 * 60 * 1_000_000

_TIER_QUIET_HOURS: Final[dict[Tier, QuietHours | None]] = {
    # A child cannot hold an account; if a row exists, it never gets less than a young teen.
    Tier.CHILD: (time(21, 0), time(8, 0)),
    Tier.YOUNG_TEEN: (time(21, 0), time(8, 0)),
    Tier.OLDER_TEEN: (time(22, 0), time(8, 0)),
    Tier.ADULT: None,
}
_TIER_SCREEN_TIME_MINUTES: Final[dict[Tier, int | None]] = {
    Tier.CHILD: 60,
    Tier.YOUNG_TEEN: 60,
    Tier.OLDER_TEEN: 60,
    Tier.ADULT: None,
}


def default_quiet_hours(tier: Tier) -> QuietHours | None:
    """Push-notification quiet hours of the tier (POLICY.md §3): 21-08, 22-08, none for adults."""
    return _TIER_QUIET_HOURS[tier]


def default_screen_time_minutes(tier: Tier) -> int | None:
    """Default daily screen-time limit (POLICY.md §3): 60 minutes for teens, none for adults."""
    return _TIER_SCREEN_TIME_MINUTES[tier]


def _microseconds(t: time) -> int:
    if t.tzinfo is not None:
        raise ValueError("quiet hours are local wall-clock times without a time zone")
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _from_microseconds(us: int) -> time:
    us %= _DAY_US
    seconds, micro = divmod(us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, micro)


def _arc(window: QuietHours) -> tuple[int, int]:
    """(start, length) in microseconds; length is in (0, one day]."""
    start = _microseconds(window[0])
    length = (_microseconds(window[1]) - start) % _DAY_US
    return start, length or _DAY_US


def is_within_quiet_hours(window: QuietHours | None, at: time) -> bool:
    """Whether local time `at` falls inside `window` (half-open; wraps past midnight)."""
    if window is None:
        return False
    start, length = _arc(window)
    return (_microseconds(at) - start) % _DAY_US < length


def quiet_hours_cover(outer: QuietHours | None, inner: QuietHours | None) -> bool:
    """Whether every moment of `inner` is inside `outer` (None is the empty window)."""
    if inner is None:
        return True
    if outer is None:
        return False
    o_start, o_len = _arc(outer)
    i_start, i_len = _arc(inner)
    if o_len == _DAY_US:
        return True
    return (i_start - o_start) % _DAY_US + i_len <= o_len


def _quiet_hours_union(tier: QuietHours | None, guardian: QuietHours | None) -> QuietHours | None:
    """The effective quiet hours: the tier's window widened by the guardian's (POLICY.md §3, §5).

    When the two windows touch or overlap, the union is one window and that is the answer. A
    guardian window that does not even touch the tier window cannot have passed
    `check_guardian_limits`; it is ignored rather than trusted, and the tier window stands (never
    less than the tier).
    """
    if guardian is None:
        return tier
    if tier is None or quiet_hours_cover(guardian, tier):
        return guardian
    if quiet_hours_cover(tier, guardian):
        return tier
    t_start, t_len = _arc(tier)
    g_start, g_len = _arc(guardian)
    if (g_start - t_start) % _DAY_US <= t_len:  # the guardian's window starts inside the tier's
        start, length = t_start, (g_start - t_start) % _DAY_US + g_len
    elif (t_start - g_start) % _DAY_US <= g_len:  # the tier's window starts inside the guardian's
        start, length = g_start, (t_start - g_start) % _DAY_US + t_len
    else:
        return tier
    if length >= _DAY_US:
        return (_from_microseconds(start), _from_microseconds(start))
    return (_from_microseconds(start), _from_microseconds(start + length))


@dataclass(frozen=True)
class GuardianLimits:
    """What a linked guardian set for a teen (POLICY.md §5): they can only tighten.

    `quiet_hours` is a local-time window that may wrap past midnight (see `QuietHours`).
    """

    dm_off: bool = False
    daily_screen_time_minutes: int | None = None
    quiet_hours: QuietHours | None = None

    def __post_init__(self) -> None:
        minutes = self.daily_screen_time_minutes
        if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
            raise TypeError("daily_screen_time_minutes must be an int or None")
        if minutes is not None and minutes < 0:
            raise ValueError("daily_screen_time_minutes must be >= 0")
        if self.quiet_hours is not None:
            start, end = self.quiet_hours
            if not (isinstance(start, time) and isinstance(end, time)):
                raise TypeError("quiet_hours must be a (time, time) pair")
            _arc((start, end))  # refuses time-zone-aware times
            object.__setattr__(self, "quiet_hours", (start, end))


def check_guardian_limits(tier: Tier, limits: GuardianLimits) -> Reason | None:
    """None if `limits` only tighten the tier's protections, else GUARDIAN_LOOSENS (POLICY.md §5).

    A guardian may turn DMs off, shorten the daily screen time to at most the tier default, and
    widen the quiet hours to a window that contains the tier's window; never the reverse.
    """
    default_minutes = _TIER_SCREEN_TIME_MINUTES[tier]
    minutes = limits.daily_screen_time_minutes
    if minutes is not None and default_minutes is not None and minutes > default_minutes:
        return Reason.GUARDIAN_LOOSENS
    if limits.quiet_hours is not None and not quiet_hours_cover(
        limits.quiet_hours, _TIER_QUIET_HOURS[tier]
    ):
        return Reason.GUARDIAN_LOOSENS
    return None


def _min_minutes(a: int | None, b: int | None) -> int | None:
    """The shorter of two screen-time limits; None is "no limit"."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def combine_guardian_limits(all_limits: Iterable[GuardianLimits]) -> GuardianLimits | None:
    """The strictest of several guardians' limits (POLICY.md §5: every guardian can only tighten).

    DMs are off if any guardian turned them off; the shortest screen time wins (0 included); the
    quiet hours are the union of the windows. Each window passed `check_guardian_limits`, so each
    contains the tier window and any two of them overlap: their union is one window.
    """
    combined: GuardianLimits | None = None
    for limits in all_limits:
        if combined is None:
            combined = limits
            continue
        quiet = combined.quiet_hours
        if limits.quiet_hours is not None:
            quiet = _quiet_hours_union(quiet, limits.quiet_hours) if quiet else limits.quiet_hours
        combined = GuardianLimits(
            dm_off=combined.dm_off or limits.dm_off,
            daily_screen_time_minutes=_min_minutes(
                combined.daily_screen_time_minutes, limits.daily_screen_time_minutes
            ),
            quiet_hours=quiet,
        )
    return combined


# --------------------------------------------------------------------------------------------------
# Capabilities (POLICY.md §3)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFacts:
    """Everything the policy needs to know about one person, gathered by the caller.

    `settings` None means the tier defaults. `restricted_features` are the moderation restrictions
    in force on the date the question is asked.
    """

    birthdate: date
    country: str
    status: AccountStatus = AccountStatus.ACTIVE
    settings: SafetySettings | None = None
    guardian_limits: GuardianLimits | None = None
    guardian_consent: bool = False
    restricted_features: frozenset[Feature] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
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
    "livestream",
    "gifts",
    "personalised_ads",
    "personalisation",
    "quiet_hours",
    "daily_screen_time_limit",
)


@dataclass(frozen=True)
class _Resolved:
    """Facts turned into what every rule reads: age, tier and effective values."""

    facts: UserFacts
    age: int
    tier: Tier
    below_minimum_age: bool
    requested: SafetySettings  # own settings, or the tier defaults
    clamped: SafetySettings  # capped by the tier ceiling
    guardian_dm_off: bool
    consent_required: bool  # below the digital-consent age without a guardian's consent

    @property
    def dm_audience(self) -> Audience:
        """Who may message this person: tier ceiling, guardian and own setting (POLICY.md §3)."""
        if self.guardian_dm_off:
            return Audience.NOBODY
        return self.clamped.dm_setting

    def restricts(self, feature: Feature) -> bool:
        return feature in self.facts.restricted_features


def _resolve(facts: UserFacts, on: date) -> _Resolved:
    age = age_on(facts.birthdate, on)
    tier = tier_for_age(age)
    requested = facts.settings if facts.settings is not None else default_settings(tier)
    consent_age = jurisdictions.digital_consent_age(facts.country)
    return _Resolved(
        facts=facts,
        age=age,
        tier=tier,
        below_minimum_age=age < jurisdictions.minimum_age(facts.country),
        requested=requested,
        clamped=clamp_settings(requested, tier),
        guardian_dm_off=facts.guardian_limits is not None and facts.guardian_limits.dm_off,
        consent_required=(
            consent_age is not None and age < consent_age and not facts.guardian_consent
        ),
    )


def _lockdown_reason(r: _Resolved) -> Reason | None:
    """Why nothing interactive is allowed at all, if that is the case (POLICY.md §3, §4).

    Below the country's minimum age, or already in under_age_review: UNDER_MINIMUM_AGE (the
    account goes to under_age_review). Suspended or banned: ACCOUNT_RESTRICTED. The age reason wins
    because it is what the account's notice and appeal are about.
    """
    status = r.facts.status
    if r.below_minimum_age or status is AccountStatus.UNDER_AGE_REVIEW:
        return Reason.UNDER_MINIMUM_AGE
    if status in (AccountStatus.SUSPENDED, AccountStatus.BANNED):
        return Reason.ACCOUNT_RESTRICTED
    return None


def _cap_hold_account(r: _Resolved) -> Capability:
    """POLICY.md §3 row 1. `value` is the status the account should be in."""
    status = r.facts.status
    if r.below_minimum_age:
        target = status if status is AccountStatus.BANNED else AccountStatus.UNDER_AGE_REVIEW
        return Capability("hold_account", False, target, Reason.UNDER_MINIMUM_AGE)
    reason = _lockdown_reason(r)
    if reason is not None:
        return Capability("hold_account", False, status, reason)
    return Capability("hold_account", True, status)


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


def _cap_livestream(r: _Resolved) -> Capability:
    """POLICY.md §3 "host a livestream": adults only; a moderator can restrict it."""
    if r.tier < Tier.ADULT:
        return Capability("livestream", False, None, Reason.TIER_NOT_ELIGIBLE)
    if r.restricts(Feature.LIVESTREAM):
        return Capability("livestream", False, None, Reason.FEATURE_RESTRICTED)
    return Capability("livestream", True)


def _cap_gifts(r: _Resolved) -> Capability:
    """POLICY.md §2/§3 virtual gifts: 18, KR 19; a moderator can restrict them."""
    if r.age < jurisdictions.gift_minimum_age(r.facts.country):
        return Capability("gifts", False, None, Reason.BELOW_GIFT_AGE)
    if r.restricts(Feature.GIFTS):
        return Capability("gifts", False, None, Reason.FEATURE_RESTRICTED)
    return Capability("gifts", True)


def _cap_personalised_ads(r: _Resolved) -> Capability:
    """POLICY.md §2: personalised advertising is off for every minor (DSA art. 28(2))."""
    if r.age < jurisdictions.personalised_ads_minimum_age(r.facts.country):
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
    """POLICY.md §3/§5: the tier's window, widened (never narrowed) by a guardian."""
    value = _quiet_hours_value(r)
    reason = Reason.GUARDIAN_RESTRICTED if value != _TIER_QUIET_HOURS[r.tier] else None
    return Capability("quiet_hours", True, value, reason)


def _cap_daily_screen_time_limit(r: _Resolved) -> Capability:
    """POLICY.md §3/§5: the tier's default, shortened (never lengthened) by a guardian."""
    value = _screen_time_value(r)
    reason = Reason.GUARDIAN_RESTRICTED if value != _TIER_SCREEN_TIME_MINUTES[r.tier] else None
    return Capability("daily_screen_time_limit", True, value, reason)


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
}
# Protections (not permissions) keep showing their effective value under lock-down.
_PROTECTIONS: Final = frozenset({"quiet_hours", "daily_screen_time_limit"})


def capabilities(facts: UserFacts, *, on: date) -> dict[str, Capability]:
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
    r = _resolve(facts, on)
    lockdown = _lockdown_reason(r)
    result: dict[str, Capability] = {}
    for name, row in _ROWS.items():
        cap = row(r)
        if lockdown is not None and name != "hold_account":
            value = _LOCKED_VALUES.get(name, cap.value if name in _PROTECTIONS else None)
            cap = Capability(name, False, value, lockdown)
        result[name] = cap
    return result


# --------------------------------------------------------------------------------------------------
# Contact (POLICY.md §3, "Contact between adults and minors")
# --------------------------------------------------------------------------------------------------

# A recipient must be in good standing to be reached: POLICY.md §3 locks a thread as soon as a
# participant's account is restricted, so a new message to a restricted account is refused too.
_REACHABLE: Final = frozenset({AccountStatus.ACTIVE})


def can_direct_message(
    sender: UserFacts, recipient: UserFacts, *, are_friends: bool, blocked: bool, on: date
) -> Decision:
    """May `sender` send a direct message to `recipient` on `on`? (POLICY.md §3)

    Checks, first failure wins:

    1. a block either way ends all contact .......................... DM_BLOCKED
    2. sender's status is not active ................................. ACCOUNT_RESTRICTED
    3. sender has a DM restriction (moderation) ...................... FEATURE_RESTRICTED
    4. recipient not active, or has a DM restriction ................. RECIPIENT_UNAVAILABLE
    5. sender under 16 ............................................... DM_SENDER_UNDER_16
    6. recipient under 16 ............................................ DM_RECIPIENT_UNDER_16
    7. sender / recipient below the country's minimum age ............ UNDER_MINIMUM_AGE /
       RECIPIENT_UNAVAILABLE (unreachable while every minimum age is <= 16; kept so that a
       higher national minimum can never open DMs)
    8. sender's guardian turned DMs off .............................. GUARDIAN_RESTRICTED
    9. sender is 16-17 and their own effective DM setting is nobody .. DM_SENDER_SETTING
    10. recipient's effective DM setting is nobody (own setting, tier
        ceiling or guardian) ......................................... DM_RECIPIENT_SETTING
    11. not friends, and either side is a minor or the recipient's
        effective setting is friends ................................. DM_NOT_FRIENDS

    Account-level states come before age so that the answer about a suspended or blocked account
    does not reveal the other person's age; the sender's own limits come before the recipient's
    settings, and a setting of nobody is reported before friendship because it refuses everyone.
    Together 6, 10 and 11 give the adult-to-minor rule: only a 16-17-year-old friend whose effective
    DM setting is friends (the tier ceiling caps 16-17 at friends).
    """
    if blocked:
        return Decision.refuse(Reason.DM_BLOCKED)
    s, t = _resolve(sender, on), _resolve(recipient, on)
    if sender.status is not AccountStatus.ACTIVE:
        return Decision.refuse(Reason.ACCOUNT_RESTRICTED)
    if s.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.FEATURE_RESTRICTED)
    if recipient.status not in _REACHABLE or t.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if s.age < DM_MINIMUM_AGE:
        return Decision.refuse(Reason.DM_SENDER_UNDER_16)
    if t.age < DM_MINIMUM_AGE:
        return Decision.refuse(Reason.DM_RECIPIENT_UNDER_16)
    if s.below_minimum_age:
        return Decision.refuse(Reason.UNDER_MINIMUM_AGE)
    if t.below_minimum_age:
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if s.guardian_dm_off:
        return Decision.refuse(Reason.GUARDIAN_RESTRICTED)
    if s.tier is Tier.OLDER_TEEN and s.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_SENDER_SETTING)
    if t.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_RECIPIENT_SETTING)
    friends_required = (
        s.tier < Tier.ADULT or t.tier < Tier.ADULT or t.dm_audience is Audience.FRIENDS
    )
    if friends_required and not are_friends:
        return Decision.refuse(Reason.DM_NOT_FRIENDS)
    return Decision.allow()


def can_join_group(
    member: UserFacts,
    *,
    added_by: UserFacts | None,
    added_by_is_friend: bool,
    blocked_with_any_member: bool,
    on: date,
) -> Decision:
    """May `member` be in a group thread (added by `added_by`, or joining) on `on`? (POLICY.md §3)

    Checks, first failure wins:

    1. a block between the member and anyone in the thread ........... DM_BLOCKED
    2. the adder's status is not active / adder has a DM restriction . ACCOUNT_RESTRICTED /
                                                                        FEATURE_RESTRICTED
    3. the member is not active, or has a DM restriction ............. RECIPIENT_UNAVAILABLE
    4. the member (or the adder) is under 16 ......................... GROUP_MEMBER_UNDER_16
    5. the member is below the country's minimum age ................. RECIPIENT_UNAVAILABLE
    6. the member's guardian turned DMs off .......................... GUARDIAN_RESTRICTED
    7. the member's effective DM setting is nobody ................... DM_RECIPIENT_SETTING
    8. the member is 16-17, or their effective DM setting is friends,
       and they were not added by a friend ........................... GROUP_ADD_NOT_FRIEND

    A group thread reaches its members like a direct message does, so a member's DM audience decides
    who may add them; for 16-17 that is at most friends, which is the §3 "only by a friend" rule.
    """
    if blocked_with_any_member:
        return Decision.refuse(Reason.DM_BLOCKED)
    m = _resolve(member, on)
    a = _resolve(added_by, on) if added_by is not None else None
    if a is not None:
        if a.facts.status is not AccountStatus.ACTIVE:
            return Decision.refuse(Reason.ACCOUNT_RESTRICTED)
        if a.restricts(Feature.DIRECT_MESSAGES):
            return Decision.refuse(Reason.FEATURE_RESTRICTED)
    if member.status not in _REACHABLE or m.restricts(Feature.DIRECT_MESSAGES):
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if m.age < DM_MINIMUM_AGE or (a is not None and a.age < DM_MINIMUM_AGE):
        return Decision.refuse(Reason.GROUP_MEMBER_UNDER_16)
    if m.below_minimum_age:
        return Decision.refuse(Reason.RECIPIENT_UNAVAILABLE)
    if m.guardian_dm_off:
        return Decision.refuse(Reason.GUARDIAN_RESTRICTED)
    if m.dm_audience is Audience.NOBODY:
        return Decision.refuse(Reason.DM_RECIPIENT_SETTING)
    friend_only = m.tier < Tier.ADULT or m.dm_audience is Audience.FRIENDS
    if friend_only and not (added_by is not None and added_by_is_friend):
        return Decision.refuse(Reason.GROUP_ADD_NOT_FRIEND)
    return Decision.allow()


# --------------------------------------------------------------------------------------------------
# Birthdate changes (POLICY.md §4)
# --------------------------------------------------------------------------------------------------


class BirthdateChange(StrEnum):
    """Which way a birthdate-change request moves the user's age (POLICY.md §4)."""

    YOUNGER = "younger"
    OLDER = "older"
    UNCHANGED = "unchanged"


# Stronger than self-declaration (POLICY.md §4). Every recorded method but self-declaration counts;
# the staff reviewer weighs the evidence behind it.
_METHODS_FOR_OLDER: Final = frozenset(AssuranceMethod) - {AssuranceMethod.SELF_DECLARED}


def classify_birthdate_change(
    old: date, new: date, *, method: AssuranceMethod
) -> tuple[BirthdateChange, Decision]:
    """Direction of a birthdate change and whether the request may go ahead (POLICY.md §4).

    - a later birthdate makes the user younger: it only adds protection, so it is allowed and takes
      effect at once;
    - an earlier birthdate makes the user older (and may cross 16 or 18 upward): it never takes
      effect on its own; it may be queued for a staff reviewer only with a method stronger than
      self-declaration, otherwise METHOD_TOO_WEAK. `allowed` here means "may be queued";
    - the same date is refused with BIRTHDATE_UNCHANGED.

    Validating the new date (future, before 1900) is `validate_birthdate`'s job.
    """
    method = AssuranceMethod(method)
    if new == old:
        return BirthdateChange.UNCHANGED, Decision.refuse(Reason.BIRTHDATE_UNCHANGED)
    if new > old:
        return BirthdateChange.YOUNGER, Decision.allow()
    if method not in _METHODS_FOR_OLDER:
        return BirthdateChange.OLDER, Decision.refuse(Reason.METHOD_TOO_WEAK)
    return BirthdateChange.OLDER, Decision.allow()


__all__ = [
    "ADULT_AGE",
    "CAPABILITY_NAMES",
    "DM_MINIMUM_AGE",
    "EARLIEST_BIRTHDATE",
    "SETTING_NAMES",
    "YOUNG_TEEN_AGE",
    "AccountStatus",
    "AssuranceMethod",
    "Audience",
    "BirthdateChange",
    "Capability",
    "Decision",
    "Feature",
    "GuardianLimits",
    "InvalidBirthdate",
    "QuietHours",
    "Reason",
    "SafetySettings",
    "Tier",
    "UserFacts",
    "age_on",
    "can_direct_message",
    "can_join_group",
    "capabilities",
    "check_guardian_limits",
    "check_setting",
    "clamp_settings",
    "classify_birthdate_change",
    "default_quiet_hours",
    "default_screen_time_minutes",
    "default_settings",
    "is_below_minimum_age",
    "is_minor",
    "is_within_quiet_hours",
    "latest_birthdate_for_age",
    "nth_birthday",
    "quiet_hours_cover",
    "tier_for_age",
    "tier_on",
    "validate_birthdate",
]
