"""Housekeeping of the sign-up age gate (POLICY.md §7.3): refused attempts are kept 90 days; and
the notice.created announcer (issue 12.2)."""

from __future__ import annotations

from celery import shared_task

from accounts.age_gate import ATTEMPT_RETENTION
from safety_portal.core import clock
from safety_portal.core.api.models import AgeGateAttempt
from safety_portal.core.audit.actors import SystemActor

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
