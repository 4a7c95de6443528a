"""Thin Celery tasks: each names itself as the actor, calls an idempotent service, returns a count.

Scheduled by `safety_portal/celery.py` (issue 7). Running one twice, or two at once, has the effect of
running it once: the services lock rows with SKIP LOCKED and re-check state under the lock, and
the "once" effects (notices, escalations) are backed by unique constraints or recorded timestamps.
"""

from __future__ import annotations

from celery import shared_task

from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor

from . import conf, risk_signals, services
from .actions import receiving, under_age_closure
from .models import ReportReceipt


@shared_task(name="moderation.tidy_expired_restrictions")
def tidy_expired_restrictions() -> int:
    """Record ended restrictions and tell the users (they already stopped counting at ends_at)."""
    actor = SystemActor("task.moderation.tidy_expired_restrictions")
    total = 0
    while True:
        done = services.end_elapsed_restrictions(actor=actor, at=clock.now())
        total += done
        if done == 0:
            return total


@shared_task(name="moderation.expire_idle_claims")
def expire_idle_claims() -> int:
    actor = SystemActor("task.moderation.expire_idle_claims")
    return services.release_expired_claims(actor=actor, at=clock.now())


@shared_task(name="moderation.escalate_overdue_cases")
def escalate_overdue_cases() -> int:
    actor = SystemActor("task.moderation.escalate_overdue_cases")
    return services.escalate_overdue_cases(actor=actor, at=clock.now())


@shared_task(name="moderation.evaluate_contact_risk")
def evaluate_contact_risk(user_id: int) -> bool:
    actor = SystemActor("task.moderation.evaluate_contact_risk")
    flag = risk_signals.evaluate_contact_risk(user_id=user_id, actor=actor, at=clock.now())
    return flag is not None


@shared_task(
    name="moderation.close_expired_under_age_reviews", soft_time_limit=1500, time_limit=1800
)
def close_expired_under_age_reviews(limit: int = 500) -> int:
    """Daily (beat, 02:30): close accounts whose under-age appeal window passed (POLICY.md §4)."""
    result = under_age_closure.close_expired_reviews(
        actor=SystemActor("moderation.close_expired_under_age_reviews"), limit=limit
    )
    return len(result.closed)


@shared_task(name="moderation.close_under_age_account")
def close_under_age_account(user_id: int) -> bool:
    """Close one account if it is due (for an operator or another job); a no-op otherwise."""
    return under_age_closure.close_account(
        user_id, actor=SystemActor("moderation.close_under_age_account"), at=clock.now()
    )


@shared_task(name=receiving.TASK)
def file_received_reports(limit: int = 1000) -> int:
    """File the reports received with `Prefer: respond-async` (D38): kicked by the web process
    that received one, and swept by beat every few seconds. Asks for another run when it stopped
    at its limit with receipts still waiting."""
    run = receiving.file_waiting(limit=limit)
    if run.more:
        file_received_reports.apply_async(kwargs={"limit": limit}, expires=60)
    return run.done


@shared_task(name="moderation.purge_settled_receipts")
def purge_settled_receipts() -> int:
    """Daily: filed and refused receipts older than MODERATION_RECEIPT_RETENTION_DAYS."""
    before = clock.now() - conf.receipt_retention()
    total = 0
    while deleted := ReportReceipt.objects.purge_settled(before=before):
        total += deleted
    return total
