"""The portal's one clock.

Every rule that depends on "today" takes the date as an argument; the callers get it from here, so
tests move time in one place (time-machine patches `django.utils.timezone.now`) and the Python age
function and SQL age queries use the same reference date (POLICY.md §1: today is the current date in
the configured TIME_ZONE).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from django.utils import timezone

# (the moment the history starts at, the monotonic time it was entered): see `seeding_history`.
_history: ContextVar[tuple[datetime, float] | None] = ContextVar("clock_history", default=None)


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    history = _history.get()
    if history is None:
        return timezone.now()
    start, entered = history
    return start + timedelta(seconds=time.monotonic() - entered)


@contextmanager
def seeding_history(moment: datetime) -> Iterator[None]:
    """The demo seeder writes a month of history as it would have happened (issue 15.4): inside
    this block `now()` starts at `moment` and runs on, so every manager, rule and audit entry sees
    that time, exactly as when the work was done then. Only the demo seeders may call it (a test
    in tests/test_floors.py holds every other module to that); nothing in a request or a task
    ever moves the clock.
    """
    if timezone.is_naive(moment):
        raise ValueError("the history's moment must be timezone-aware")
    token = _history.set((moment, time.monotonic()))
    try:
        yield
    finally:
        _history.reset(token)


def today() -> date:
    """Today's date in the portal's configured TIME_ZONE (POLICY.md §1)."""
    return date_of(now())


def start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the configured TIME_ZONE: where a day of the portal's
    calendar begins (day filters, "today" counts, the 30-day charts)."""
    return timezone.make_aware(datetime.combine(day, time_of_day.min))


def date_of(moment: datetime) -> date:
    """The date of `moment` in the configured TIME_ZONE, the same calendar as `today()`.

    The configured zone itself, not Django's "current" zone: the rules' calendar is the portal's
    (POLICY.md §1) whatever zone a request might activate, and the configured zone is cached,
    where the current one is a thread-local lookup on every call (a send asks three times).
    """
    return timezone.localtime(moment, timezone.get_default_timezone()).date()
