"""Thin Celery tasks for webhooks and idempotency housekeeping: ids in, services called.

Running a task twice is harmless: `webhooks.deliver` claims the delivery with a lease and does
nothing when it is not due. The jobs app connects `deliver_webhook` to its outbox / on_commit
dispatch and schedules `deliver_due_webhooks`, `purge_idempotency_records` and
`purge_age_gate_attempts` on beat.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor

from . import webhooks
from .models import IdempotencyRecord


@shared_task(name="integrations.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """Send one delivery; after a failed attempt, schedule the next one at its backoff time."""
    outcome = webhooks.deliver(delivery_id)
    if outcome.attempted and outcome.next_attempt_at is not None:
        # Under eager Celery this runs at once, finds the delivery not yet due, and stops; the
        # periodic sweep then sends it when it is due.
        deliver_webhook.apply_async((delivery_id,), eta=outcome.next_attempt_at)
    return outcome.status


@shared_task(name="integrations.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> int:
    """Queue every due delivery (lost task, worker restart, broker outage)."""
    ids = webhooks.due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@shared_task(name="integrations.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records(max_age_hours: int = 24) -> int:
    """Forget idempotency records after the replay window (issue 6: keys are kept for 24 h)."""
    return IdempotencyRecord.objects.purge(
        older_than=clock.now() - dt.timedelta(hours=max_age_hours),
        actor=SystemActor("task.purge_idempotency_records"),
    )
