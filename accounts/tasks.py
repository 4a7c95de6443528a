"""Thin Celery tasks of the accounts app: take ids or dates, call a service, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from safety_portal.core.audit.actors import SystemActor

from . import transitions


@shared_task(name="accounts.birthday_transitions", soft_time_limit=1500, time_limit=1800)
def birthday_transitions(
    today: str | None = None, batch_size: int = transitions.BATCH_SIZE
) -> dict[str, int]:
    """Daily (beat, 00:05): tier-change notices for users crossing 13, 16 or 18; catches up."""
    days = transitions.run(
        actor=SystemActor(transitions.JOB),
        today=dt.date.fromisoformat(today) if today else None,
        batch_size=batch_size,
    )
    return {day.on.isoformat(): day.notices for day in days}
