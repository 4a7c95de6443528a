"""The portal's calendar (safety_portal/core/clock.py): dates are read in the configured TIME_ZONE.

POLICY.md §1: "today" is the current date in the configured time zone, for every rule. The clock
reads that zone directly (D24: Django's "current" zone is a thread-local lookup on every call), so
these tests pin the two things that could go wrong with that: the date follows the setting when
it changes, and a zone activated for one request does not move the rules' calendar.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import override_settings
from django.utils import timezone

from safety_portal.core import clock

# Half past eleven at night in UTC: already the next day in Berlin (UTC+2 in summer).
LATE_EVENING_UTC = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)


def test_a_moment_falls_on_the_date_of_the_configured_time_zone() -> None:
    with override_settings(TIME_ZONE="UTC"):
        assert clock.date_of(LATE_EVENING_UTC) == dt.date(2026, 6, 30)
    with override_settings(TIME_ZONE="Europe/Berlin"):
        assert clock.date_of(LATE_EVENING_UTC) == dt.date(2026, 7, 1)


def test_today_is_the_configured_time_zones_date() -> None:
    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        with override_settings(TIME_ZONE="UTC"):
            assert clock.today() == dt.date(2026, 6, 30)
        with override_settings(TIME_ZONE="Europe/Berlin"):
            assert clock.today() == dt.date(2026, 7, 1)


def test_a_zone_activated_for_a_request_does_not_move_the_rules_calendar() -> None:
    with override_settings(TIME_ZONE="UTC"), timezone.override("Pacific/Kiritimati"):  # UTC+14
        assert timezone.localdate(LATE_EVENING_UTC) == dt.date(2026, 7, 1)  # Django's current zone
        assert clock.date_of(LATE_EVENING_UTC) == dt.date(2026, 6, 30)  # the portal's calendar
