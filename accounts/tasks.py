"""Thin Celery tasks of the accounts app: take ids or dates, call a service, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from safety_portal.core.audit.actors import SystemActor

from . import closure, transitions


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


@shared_task(name="accounts.close_expired_under_age_reviews", soft_time_limit=1500, time_limit=1800)
def close_expired_under_age_reviews(limit: int = 500) -> int:
    """Daily (beat, 02:30): close accounts whose under-age appeal window passed (POLICY.md §4)."""
    result = closure.close_expired_reviews(
        actor=SystemActor("accounts.close_expired_under_age_reviews"), limit=limit
    )
    return len(result.closed)


@shared_task(name="accounts.close_under_age_account")
def close_under_age_account(user_id: int) -> bool:
    """Close one account if it is due (for an operator or another job); a no-op otherwise."""
    from safety_portal.core import clock

    return closure.close_account(
        user_id, actor=SystemActor("accounts.close_under_age_account"), at=clock.now()
    )
