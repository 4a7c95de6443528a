"""Safety settings and their tier ceilings (POLICY.md §3): the values each tier may hold, its
defaults, and which of two values is the stricter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .vocabulary import Audience, Reason, Tier


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
    connections_visible: bool

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
    "connections_visible",
)
# The settings whose values are audiences (nobody < friends < everyone); the others are booleans.
AUDIENCE_SETTINGS: Final = frozenset({"dm_setting", "comment_setting", "duet_setting"})
# For these booleans True is the strict value; for the others False is.
_TRUE_IS_STRICT: Final = frozenset({"private_account"})


def _coerce_setting(name: str, value: object) -> Audience | bool:
    if name in AUDIENCE_SETTINGS:
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


def is_stricter(name: str, new: object, than: object) -> bool:
    """Whether `new` lets in less than `than` for setting `name` (POLICY.md §3).

    Audiences order nobody < friends < everyone; a private account is stricter than a public one;
    downloads, account suggestions and visible connection lists are stricter off than on. Plain strings are accepted for
    audiences (the database hands them back); unknown names and ill-typed values raise.
    """
    return _openness(name, _coerce_setting(name, new)) < _openness(
        name, _coerce_setting(name, than)
    )


def tightens(before: Mapping[str, object], after: Mapping[str, object]) -> bool:
    """Whether any setting in `after` became stricter than it was in `before` (POLICY.md §3).

    A change that tightens something may leave a thread with a participant who may no longer be
    in it, so the caller tells messaging (which locks such threads); `after` names only the
    settings that changed, and each of them must be in `before`.
    """
    return any(is_stricter(name, value, before[name]) for name, value in after.items())


_N, _F, _E = Audience.NOBODY, Audience.FRIENDS, Audience.EVERYONE

# The loosest value each tier may choose (POLICY.md §3 as changed by §7.4, 2025-26). A ceiling equal
# to the strictest value means the setting is locked for the tier (SETTING_LOCKED_FOR_TIER). A child
# has no account (it goes to under_age_review), so every setting is locked at its strictest. Fields:
# dm, private, comments, duet/stitch, downloads, suggest account, connection lists visible.
_CEILINGS: Final[dict[Tier, SafetySettings]] = {
    Tier.CHILD: SafetySettings(_N, True, _N, _N, False, False, False),
    # 13-15: DMs nobody only; comments friends at most; duet/stitch and downloads off and locked;
    # suggestions off and locked and connection lists hidden and locked (§7.4). Private is a
    # default that only a linked guardian's approval can turn off (`loosening_refusal`).
    Tier.YOUNG_TEEN: SafetySettings(_N, False, _F, _N, False, False, False),
    # 16-17: DMs nobody or friends; downloads off and locked (§7.4, was "default off"); the rest
    # may be opened (suggestions then reach existing connections only: capabilities).
    Tier.OLDER_TEEN: SafetySettings(_F, False, _E, _E, False, True, True),
    Tier.ADULT: SafetySettings(_E, False, _E, _E, True, True, True),
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
        connections_visible=False,
    ),
    Tier.OLDER_TEEN: SafetySettings(
        dm_setting=_N,
        private_account=True,
        comment_setting=_E,
        duet_setting=_F,
        download_setting=False,
        suggest_account=False,
        connections_visible=False,  # §7.4: hidden by default
    ),
    # POLICY.md §3 says "any" for adults' duet/stitch and downloads; the defaults are the open ones.
    Tier.ADULT: SafetySettings(
        dm_setting=_F,
        private_account=False,
        comment_setting=_E,
        duet_setting=_E,
        download_setting=True,
        suggest_account=True,
        connections_visible=True,
    ),
}

# POLICY.md §7.4 "loosen any setting within the ceiling": the tiers whose loosenings need a linked
# guardian's approval when a guardian is linked, and the settings that such a tier may not loosen at
# all without one (13-15: the account stays private unless a linked guardian approves).
_LOOSENING_NEEDS_LINKED_GUARDIAN: Final = frozenset({Tier.YOUNG_TEEN})
_LOOSENING_NEEDS_GUARDIAN_ALWAYS: Final[dict[Tier, frozenset[str]]] = {
    Tier.YOUNG_TEEN: frozenset({"private_account"}),
}


def ceiling(tier: Tier) -> SafetySettings:
    """The loosest values `tier` may hold (POLICY.md §3, §7.4): what the database also enforces."""
    return _CEILINGS[tier]


def strictest() -> SafetySettings:
    """The strictest value of every setting (a child's ceiling)."""
    return _STRICTEST


def default_settings(tier: Tier) -> SafetySettings:
    """The POLICY.md §3 defaults for a new account of `tier` (a child's: the strictest values)."""
    return _DEFAULTS[tier]


def check_setting(tier: Tier, name: str, value: object) -> Reason | None:
    """May a user of `tier` choose `value` for setting `name`? (POLICY.md §3)

    None when allowed: any value at or below the tier ceiling, so tightening is always allowed.
    SETTING_LOCKED_FOR_TIER when the tier allows only the strictest value (13-15: DMs, duet/stitch,
    downloads, suggestions, connection lists; 16-17: downloads, POLICY.md §7.4);
    SETTING_ABOVE_TIER_CEILING when the tier has a choice but not this one (13-15 comments
    "everyone", 16-17 DMs "everyone"). Unknown names and ill-typed values raise.
    """
    coerced = _coerce_setting(name, value)
    ceiling = getattr(_CEILINGS[tier], name)
    if _openness(name, coerced) <= _openness(name, ceiling):
        return None
    if ceiling == getattr(_STRICTEST, name):
        return Reason.SETTING_LOCKED_FOR_TIER
    return Reason.SETTING_ABOVE_TIER_CEILING


def values_looser_than(name: str, value: object) -> tuple[Audience | bool, ...]:
    """Every value of setting `name` that lets in more than `value` (for SQL: the stored values a
    ceiling refuses, as constants)."""
    limit = _coerce_setting(name, value)
    candidates: tuple[Audience | bool, ...] = (
        tuple(Audience) if name in AUDIENCE_SETTINGS else (False, True)
    )
    return tuple(v for v in candidates if _openness(name, v) > _openness(name, limit))


def loosening_refusal(
    tier: Tier,
    name: str,
    value: object,
    current: object,
    *,
    guardian_linked: bool,
    guardian_approved: bool,
) -> Reason | None:
    """May a user of `tier` move setting `name` from `current` to `value`? (POLICY.md §3, §7.4)

    First the tier ceiling (`check_setting`). Then, for a change that loosens: 13-15 needs a linked
    guardian's approval when a guardian is linked, and may not make the account public at all
    without one (SETTING_NEEDS_GUARDIAN). Tightening, and keeping a value, are always allowed.
    """
    refusal = check_setting(tier, name, value)
    if refusal is not None or not is_stricter(name, current, value):
        return refusal
    if guardian_approved:
        return None
    if name in guardian_gated(tier):
        return Reason.SETTING_NEEDS_GUARDIAN
    if guardian_linked and tier in _LOOSENING_NEEDS_LINKED_GUARDIAN:
        return Reason.SETTING_NEEDS_GUARDIAN
    return None


def guardian_gated(tier: Tier) -> frozenset[str]:
    """The settings `tier` may loosen past its default only with a linked guardian's approval,
    whether or not a guardian is linked (POLICY.md §7.4: a 13-15-year-old's private account)."""
    return _LOOSENING_NEEDS_GUARDIAN_ALWAYS.get(tier, frozenset())


def within_rules(
    settings: SafetySettings, tier: Tier, *, guardian_approved: frozenset[str] = frozenset()
) -> SafetySettings:
    """The values a stored row must hold under the rules in force (POLICY.md §3, §7.4): each
    setting capped at the tier ceiling, and each guardian-gated setting back at the tier default
    unless a linked guardian approved it (`guardian_approved` names those settings).

    What an existing account moves to when a rule changes; it only ever tightens.
    """
    values = clamp_settings(settings, tier)
    defaults = _DEFAULTS[tier]
    for name in guardian_gated(tier) - guardian_approved:
        value, default = getattr(values, name), getattr(defaults, name)
        if _openness(name, value) > _openness(name, default):
            values = dataclasses.replace(values, **{name: default})
    return values


def clamp_settings(settings: SafetySettings, tier: Tier) -> SafetySettings:
    """Each setting capped at the tier ceiling (POLICY.md §3 "most restrictive of").

    Used when a lower tier is found later (a birthdate corrected to a younger age): stored values
    that the new tier may not have stop counting, and nothing else changes.
    """
    return SafetySettings(**{name: clamp_setting(settings, tier, name) for name in SETTING_NAMES})


def clamp_setting(settings: SafetySettings, tier: Tier, name: str) -> Audience | bool:
    """One setting of `clamp_settings`: for a rule that reads only that one (a send reads the
    DM setting of both people on every message)."""
    return _stricter(name, getattr(settings, name), getattr(_CEILINGS[tier], name))
