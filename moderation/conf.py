"""The moderation domain's tunable numbers, each overridable from Django settings.

Read at call time (``getattr(settings, NAME, default)``), so an operator changes a threshold in the
settings and a test changes it with pytest-django's ``settings`` fixture. The defaults are the
product decision; docs/decisions.md records why where it is not obvious.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

DEFAULTS: dict[str, int | float | bool] = {
    # A claim lapses after this long without activity on the case (issue 4, "claims expire").
    "MODERATION_CLAIM_IDLE_MINUTES": 30,
    # Claims wait for the disk flush like every other write; False lets them skip it
    # (managers._claims_need_not_wait_for_disk, docs/decisions.md D7).
    "MODERATION_CLAIM_SYNCHRONOUS_COMMIT": True,
    # A strike counts towards the threshold for this long (issue 4, "strikes expire").
    "MODERATION_STRIKE_TTL_DAYS": 90,
    # This many active strikes propose (never apply) an escalation.
    "MODERATION_STRIKE_THRESHOLD": 3,
    # DSA art. 23: a reporter is marked once they have at least this many rejected reports and
    # at least this share of their decided reports was rejected.
    "MODERATION_REPORTER_MARK_MIN_REJECTED": 5,
    "MODERATION_REPORTER_MARK_RATIO": 0.8,
    # Contact-risk signal (issue 4): within the window, an adult with at least this many refused
    # direct messages to minors, or attempts to reach at least this many distinct minors.
    "MODERATION_CONTACT_RISK_WINDOW_HOURS": 24,
    "MODERATION_CONTACT_RISK_REFUSALS": 5,
    "MODERATION_CONTACT_RISK_DISTINCT_MINORS": 3,
    # Age signal (POLICY.md §4): an integration's age estimate raises a flag when its confidence
    # is at least this and it is at least this many years below the declared age (or below the
    # country's minimum age).
    "MODERATION_AGE_SIGNAL_MIN_CONFIDENCE": 0.8,
    "MODERATION_AGE_SIGNAL_MARGIN_YEARS": 2.0,
    # Receipts of reports received with `Prefer: respond-async` (D38): a filed or refused
    # receipt is kept this long for its sender to read, then purged (the report stays).
    "MODERATION_RECEIPT_RETENTION_DAYS": 30,
}


def value(name: str) -> int | float | bool:
    return getattr(settings, name, DEFAULTS[name])


def claim_idle() -> dt.timedelta:
    return dt.timedelta(minutes=int(value("MODERATION_CLAIM_IDLE_MINUTES")))


def strike_ttl() -> dt.timedelta:
    return dt.timedelta(days=int(value("MODERATION_STRIKE_TTL_DAYS")))


def strike_threshold() -> int:
    return int(value("MODERATION_STRIKE_THRESHOLD"))


def contact_risk_window() -> dt.timedelta:
    return dt.timedelta(hours=int(value("MODERATION_CONTACT_RISK_WINDOW_HOURS")))


def receipt_retention() -> dt.timedelta:
    return dt.timedelta(days=int(value("MODERATION_RECEIPT_RETENTION_DAYS")))
