"""Thin Celery tasks of the accounts app: take ids or dates, call a service, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from safety_portal.core.audit.actors import SystemActor

from . import minimum_age_sweep, minor_defaults, transitions
from .models import ReRegistrationSignal


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


@shared_task(name="accounts.apply_minor_defaults", soft_time_limit=1500, time_limit=1800)
def apply_minor_defaults() -> dict[str, int]:
    """After a rule change (POLICY.md §7.4): move minors within the rules. Idempotent and
    resumable: a run stopped by its time limit keeps what it committed; run it again to finish."""
    result = minor_defaults.apply(actor=SystemActor(minor_defaults.JOB))
    return {"examined": result.examined, "moved": result.moved}


@shared_task(name="accounts.minimum_age_sweep", soft_time_limit=1500, time_limit=1800)
def run_minimum_age_sweeps(today: str | None = None) -> dict[str, int]:
    """Daily (beat, 00:20): the sweeps of minimum-age rules that took effect in the last week
    (POLICY.md §7.3). Each runs once; one stopped by its time limit resumes on the next run."""
    done = minimum_age_sweep.run_due(
        actor=SystemActor(minimum_age_sweep.JOB),
        today=dt.date.fromisoformat(today) if today else None,
    )
    return {sweep.key: sweep.found for sweep in done}


@shared_task(name="accounts.purge_reregistration_signals", soft_time_limit=600, time_limit=900)
def purge_reregistration_signals() -> int:
    """Daily (beat, 03:40): delete re-registration signals past their keep-until date (POLICY.md
    §7.3: the appeal window plus 30 days, nothing else)."""
    return ReRegistrationSignal.objects.purge_expired(
        actor=SystemActor("task.purge_reregistration_signals")
    )
