"""Thin Celery tasks of the outbox: relay what is waiting, forget what is long dispatched."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from . import dispatch


@shared_task(name="outbox.relay", time_limit=120, soft_time_limit=100)
def relay() -> dict[str, int | bool]:
    """Publish rows left by a broker outage (beat runs it every 30 seconds); safe to overlap."""
    result = dispatch.relay_all()
    return {
        "claimed": result.claimed,
        "dispatched": result.dispatched,
        "failed": result.failed,
        "broker_down": result.broker_down,
    }


@shared_task(name="outbox.prune")
def prune() -> int:
    """Delete rows dispatched more than OUTBOX_RETENTION_DAYS (default 14) ago."""
    days = int(getattr(settings, "OUTBOX_RETENTION_DAYS", 14))
    return dispatch.prune(older_than=dt.timedelta(days=days))
