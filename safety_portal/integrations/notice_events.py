"""`notice.created` webhook events for every notice written for an app user (issue 12.2).

Notices are written in many places and in bulk (a minimum-age sweep writes 100,000 by COPY, with no
keys read back), so instead of an event at each write, this job announces what is not yet announced:
each notice table has `announced_at` and a partial index on the rows without it. A batch is claimed
with `FOR UPDATE SKIP LOCKED` (two workers never announce the same notice), its deliveries written in
one INSERT and queued through the outbox, and the rows stamped, in one transaction: a notice is
announced exactly when its event exists. Beat runs it every minute; the event carries ids and codes,
never the text (the app reads that from GET users/{id}/notices/ with `notices:read`).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from moderation.models import Notice
from safety_portal.core import clock
from safety_portal.core.api import webhooks
from safety_portal.core.api.models import WebhookEvent
from safety_portal.core.outbox.models import UserNotice

from .receivers import dispatch

BATCH = 500


def announce_pending(*, batch: int = BATCH) -> int:
    """Announce every notice not yet announced, a batch per transaction; how many were."""
    # Staff alerts are never announced: stamp them, so they leave the partial index.
    Notice.objects.staff_alerts().filter(announced_at__isnull=True).update(announced_at=clock.now())
    total = 0
    for source in ("moderation", "account"):
        while True:
            with transaction.atomic():
                done = _announce_batch(source, batch)
            total += done
            if done < batch:
                break
    return total


def _announce_batch(source: str, batch: int) -> int:
    model: type[models.Model]
    if source == "moderation":
        model, owner, code = Notice, "recipient_id", "code"
        rows = Notice.objects.to_app_users()
    else:
        model, owner, code = UserNotice, "user_id", "kind"
        rows = UserNotice.objects.all()
    claimed = list(
        rows.filter(announced_at__isnull=True)
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values("pk", owner, "kind", code, "tier", "created_at")[:batch]
    )
    if not claimed:
        return 0
    payloads: list[dict[str, Any]] = [
        {
            "notice_id": f"{source}-{row['pk']}",
            "user_id": row[owner],
            "kind": row["kind"],
            "code": row[code],
            "tier": row["tier"],
            "created_at": row["created_at"],
        }
        for row in claimed
    ]
    dispatch(webhooks.enqueue_events(WebhookEvent.NOTICE_CREATED, payloads))
    model.objects.filter(pk__in=[row["pk"] for row in claimed]).update(announced_at=clock.now())
    return len(claimed)
