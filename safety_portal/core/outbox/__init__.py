"""The transactional outbox (issue 7): follow-up work that survives a broker outage.

    from safety_portal.core import outbox

    with transaction.atomic():
        ...  # the change, and its audit entry
        outbox.enqueue("integrations.deliver_webhook", kwargs={"delivery_id": d.pk},
                       dedup_key=f"webhook:{d.pk}")

The row is written in the caller's transaction; after the commit it is published to Celery at once,
and if the broker is down it waits for `outbox.relay` (beat, every 30 s) or
`python manage.py relay_outbox`. A row is published once; the tasks are idempotent, so the rare
second publication (a relay that died between publishing and recording it) is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dispatch import RelayResult
    from .models import OutboxMessage


def enqueue(
    task_name: str, *, kwargs: Mapping[str, Any], dedup_key: str | None = None
) -> OutboxMessage:
    # body import: dispatch imports the models, and models import this package at module level
    from .dispatch import enqueue as _enqueue

    return _enqueue(task_name, kwargs=kwargs, dedup_key=dedup_key)


def relay(*, limit: int = 500) -> RelayResult:
    # body import: as in enqueue, the models are not loaded when this package is imported
    from .dispatch import relay as _relay

    return _relay(limit=limit)
