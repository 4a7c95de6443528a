"""Who may be a guardian, quiet hours, screen time and guardian limits (POLICY.md §3, §5): a guardian
is an adult and only tightens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import Final

from . import ages
from .vocabulary import Reason, Tier

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

# POLICY.md §7.4 (product choice after the Commission's preliminary findings on TikTok, 6 Feb 2026):
# 13-15 cannot dismiss the quiet hours or the screen-time reminder; 16-17 can. Adults have neither.
# §7.4 writes the 13-15 window as 22:00-07:00; §3's 21:00-08:00 contains it, and nothing loosens
# (§7.4 last line), so the window stays 21:00-08:00 and only becomes undismissable (decisions D14).
_TIER_REMINDER_DISMISSABLE: Final[dict[Tier, bool | None]] = {
    Tier.CHILD: False,
    Tier.YOUNG_TEEN: False,
    Tier.OLDER_TEEN: True,
    Tier.ADULT: None,
}


def reminder_dismissable(tier: Tier) -> bool | None:
    """Whether `tier` may dismiss its quiet hours and screen-time reminder (None: it has none)."""
    return _TIER_REMINDER_DISMISSABLE[tier]


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


def check_pairing(
    guardian_birthdate: date | None, teen_birthdate: date | None, on: date
) -> Reason | None:
    """May these two accounts be linked as guardian and teen on `on`? (POLICY.md §5)

    "An adult account can be linked to a minor's account": the guardian is an app user (one with a
    birthdate) who is an adult on `on` (GUARDIAN_NOT_ADULT otherwise), and the teen an app user who
    is a minor on `on` (TEEN_NOT_MINOR otherwise). None when the pair may be linked.
    """
    if guardian_birthdate is None or ages.is_minor(guardian_birthdate, on):
        return Reason.GUARDIAN_NOT_ADULT
    if teen_birthdate is None or not ages.is_minor(teen_birthdate, on):
        return Reason.TEEN_NOT_MINOR
    return None


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
