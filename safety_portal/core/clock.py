"""The portal's one clock.

Every rule that depends on "today" takes the date as an argument; the callers get it from here, so
tests move time in one place (time-machine patches `django.utils.timezone.now`) and the Python age
function and SQL age queries use the same reference date (POLICY.md §1: today is the current date in
the configured TIME_ZONE).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return timezone.now()


def today() -> date:
    """Today's date in the portal's configured TIME_ZONE (POLICY.md §1)."""
    return timezone.localdate(now())


def date_of(moment: datetime) -> date:
    """The date of `moment` in the configured TIME_ZONE, the same calendar as `today()`."""
    return timezone.localdate(moment)
