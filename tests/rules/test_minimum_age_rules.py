"""POLICY.md §7.3 as pure rules: the sweep's windows, when it runs, and the signal retention."""

from __future__ import annotations

import dataclasses
import datetime as dt

from safety_portal.rules import jurisdictions, minimum_age
from safety_portal.rules.jurisdictions import RuleStatus

FOUND = dt.date(2025, 12, 10)


def test_minimum_age_sweep_grace_window_is_14_days_and_the_appeal_window_180() -> None:
    windows = minimum_age.review_windows(FOUND)
    assert windows.grace_until == dt.date(2025, 12, 24)
    assert windows.appeal_until == dt.date(2026, 6, 8)
    assert windows.deactivate_on == dt.date(2026, 6, 9)  # after the later window


def test_re_registration_signal_is_kept_for_the_appeal_window_plus_30_days() -> None:
    assert minimum_age.signal_kept_until(FOUND) == FOUND + dt.timedelta(days=210)


def test_minimum_age_sweep_is_triggered_by_australias_rule_on_its_first_day_only() -> None:
    assert minimum_age.sweep_triggers(dt.date(2025, 12, 3), dt.date(2025, 12, 9)) == []
    [trigger] = minimum_age.sweep_triggers(dt.date(2025, 12, 3), dt.date(2025, 12, 10))
    assert (trigger.on, trigger.country, trigger.key) == (FOUND, "AU", "rule:AU:2025-12-10")
    assert minimum_age.sweep_triggers(dt.date(2025, 12, 10), dt.date(2025, 12, 17)) == []


def test_a_proposed_rule_triggers_a_sweep_once_it_is_given_a_date() -> None:
    start = dt.date(2027, 9, 1)
    dated = tuple(
        dataclasses.replace(r, effective_from=start, status=RuleStatus.ADOPTED)
        if r.country == "FR" and r.status is RuleStatus.PROPOSED
        else r
        for r in jurisdictions.TABLE
    )
    window = (dt.date(2027, 8, 25), start)
    assert minimum_age.sweep_triggers(*window) == []
    [trigger] = minimum_age.sweep_triggers(*window, table=dated)  # one per country and day
    assert (trigger.country, trigger.on) == ("FR", start)


def test_app_store_signal_laws_start_no_sweep() -> None:
    assert minimum_age.sweep_triggers(dt.date(2026, 12, 25), dt.date(2027, 1, 2)) == []
