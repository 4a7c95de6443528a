"""The minimum-age sweep and re-registration (POLICY.md §7.3, AU "reasonable steps"; DSA art. 28
guidelines): when the sweep runs, how long each window lasts, and how long a re-registration signal
is kept. Pure: the dates are arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from . import jurisdictions
from .decisions import UNDER_AGE_APPEAL_DAYS

# POLICY.md §7.3: "a grace window of 14 days to provide assurance and the appeal window of §4 run,
# then the account is deactivated".
GRACE_DAYS: Final = 14
# POLICY.md §7.3: a re-registration signal is kept "for the appeal window plus 30 days, nothing else".
SIGNAL_EXTRA_DAYS: Final = 30

# The rows whose start can put existing accounts below the floor.
_FLOOR_RULES: Final = frozenset(
    {jurisdictions.RuleName.MINIMUM_AGE, jurisdictions.RuleName.GUARDIAN_CONSENT_BAND}
)


@dataclass(frozen=True)
class ReviewWindows:
    """The dates of one account's minimum-age review, from the day it was found."""

    found_on: dt.date
    grace_until: dt.date  # last day assurance alone reinstates the account
    appeal_until: dt.date  # last day of the appeal; deactivation follows

    @property
    def deactivate_on(self) -> dt.date:
        """Deactivation follows the later window: both run from the notice (§7.3)."""
        return max(self.grace_until, self.appeal_until) + dt.timedelta(days=1)


def review_windows(found_on: dt.date) -> ReviewWindows:
    return ReviewWindows(
        found_on=found_on,
        grace_until=found_on + dt.timedelta(days=GRACE_DAYS),
        appeal_until=found_on + dt.timedelta(days=UNDER_AGE_APPEAL_DAYS),
    )


def signal_kept_until(recorded_on: dt.date) -> dt.date:
    """The last day a re-registration signal may be kept (§7.3: appeal window plus 30 days)."""
    return recorded_on + dt.timedelta(days=UNDER_AGE_APPEAL_DAYS + SIGNAL_EXTRA_DAYS)


@dataclass(frozen=True)
class SweepTrigger:
    """A floor rule that takes effect on `on` in `country`: the sweep runs for it."""

    on: dt.date
    country: str
    source: str

    @property
    def key(self) -> str:
        return f"rule:{self.country}:{self.on.isoformat()}"


def sweep_triggers(
    start: dt.date,
    end: dt.date,
    *,
    table: Iterable[jurisdictions.JurisdictionRule] = jurisdictions.TABLE,
) -> list[SweepTrigger]:
    """Floor rules (minimum age, guardian-consent band) of a country that start after `start` and
    on or before `end`, one trigger per country and day (POLICY.md §7: "a rule that takes effect
    re-checks existing accounts")."""
    seen: dict[tuple[dt.date, str], SweepTrigger] = {}
    for change in jurisdictions.changes_between(start, end, table=table):
        rule = change.rule
        if change.starts and rule.name in _FLOOR_RULES and rule.country and not rule.region:
            seen.setdefault(
                (change.on, rule.country), SweepTrigger(change.on, rule.country, rule.source)
            )
    return sorted(seen.values(), key=lambda t: (t.on, t.country))
