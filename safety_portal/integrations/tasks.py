"""Roof tasks: housekeeping of the sign-up age gate (POLICY.md §7.3: refused attempts are kept 90
days), the notice.created announcer (issue 12.2) and submission of statements of reasons to the
DSA Transparency Database (issue 12.4), and the monthly partitions kept ahead (issue 14.5)."""

from __future__ import annotations

from celery import shared_task

from accounts.age_gate import ATTEMPT_RETENTION
from safety_portal.core import clock
from safety_portal.core.api.models import AgeGateAttempt
from safety_portal.core.audit.actors import SystemActor

from . import partitions, statement_submission
from .notice_events import announce_pending


@shared_task(name="integrations.purge_age_gate_attempts", ignore_result=True)
def purge_age_gate_attempts() -> int:
    """Forget refused sign-up attempts after `age_gate.ATTEMPT_RETENTION` (90 days)."""
    return AgeGateAttempt.objects.purge(
        older_than=clock.now() - ATTEMPT_RETENTION,
        actor=SystemActor("task.purge_age_gate_attempts"),
    )


@shared_task(name="integrations.announce_notices", ignore_result=True)
def announce_notices() -> int:
    """`notice.created` for every notice not yet announced (`notice_events`)."""
    return announce_pending()


@shared_task(
    name="integrations.submit_statements", ignore_result=True, soft_time_limit=600, time_limit=660
)
def submit_statements(max_batches: int = 50) -> dict[str, object]:
    """Send due statements of reasons to the DSA Transparency Database (issue 12.4, art. 24(5)).

    Scheduled every 5 minutes. At most `max_batches` batches of 100 per run keep a run inside its
    time limit; the next run goes on where this one stopped. Safe to run twice or on several
    workers at once (claims with SKIP LOCKED and a lease; an accepted statement is never resent).
    """
    summary = statement_submission.run(
        actor=SystemActor("task.submit_statements"), max_batches=max_batches
    )
    if not summary.enabled:
        return {"enabled": False}
    return summary.counts()


@shared_task(name="integrations.create_partitions", ignore_result=True)
def create_partitions() -> list[dict[str, object]]:
    """Keep PARTITION_MONTHS_AHEAD months of partitions ready (D32). Daily; idempotent."""
    return [result.as_dict() for result in partitions.create_ahead(clock.today())]
