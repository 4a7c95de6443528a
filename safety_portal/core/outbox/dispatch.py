"""Writing outbox rows and publishing them to Celery, each row by one relay at a time.

A row is claimed with a conditional UPDATE that sets a lease (`lease_until`, `lease_token`); only the
holder publishes it and records the outcome, so two relays (or a relay and the after-commit
dispatch) never publish the same row at the same time. `dispatched_at` is written once, by the
holder, after the broker accepted the message. If the holder dies between those two steps the lease
runs out and the row is published again: at-least-once, which the idempotent tasks absorb.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import current_app
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from safety_portal.core import clock

from .models import OutboxMessage

logger = logging.getLogger("safety_portal.core.outbox")

# Longer than the slowest publish can take (two connection attempts of 2 s, a 10 s socket timeout).
LEASE = dt.timedelta(seconds=60)
# A failure that is not the broker's (an unknown task after a deployment, an encoding error) is
# tried again after this pause instead of on every relay run.
RETRY_LATER = dt.timedelta(minutes=5)
# After the broker refused a publish, requests stop trying for this long: the relay catches up.
BROKER_DOWN_PAUSE_SECONDS = 5.0
# After commit: one reconnect (a pooled connection may be stale), then leave it to the relay.
AFTER_COMMIT_RETRY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
RELAY_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)

_broker_pause_until = 0.0
_tasks_loaded = False


class Outcome(Enum):
    DISPATCHED = "dispatched"
    BROKER_DOWN = "broker_down"
    FAILED = "failed"


@dataclass(frozen=True)
class RelayResult:
    claimed: int
    dispatched: int
    failed: int
    broker_down: bool


def _app():  # type: ignore[no-untyped-def]
    # The project's Celery app is configured on the roof (safety_portal.celery); the ground floor
    # takes whichever app is current rather than importing upward.
    return current_app


def _eager() -> bool:
    return bool(_app().conf.task_always_eager)


def _registered_tasks() -> Mapping[str, Any]:
    """The task registry, after importing every installed app's `tasks` module once.

    A web process never starts a worker, so Celery's autodiscovery has not run there; the first
    enqueue runs it (worker and beat run it at start-up anyway). `force=True` imports the modules
    directly; the loader's own path would also run Django's system checks inside the request.
    """
    global _tasks_loaded
    app = _app()
    if not _tasks_loaded:
        app.autodiscover_tasks(force=True)
        _tasks_loaded = True
    return app.tasks


def _json_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise TypeError("kwargs must be a mapping with string keys.")
    try:
        decoded = json.loads(json.dumps(dict(kwargs), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Task arguments must be plain JSON values (ids, codes): {exc}") from exc
    if decoded != dict(kwargs):
        raise TypeError(
            "Task arguments must survive a JSON round trip unchanged: pass ids and strings, "
            "not tuples, sets, dates or objects."
        )
    return decoded


def enqueue(
    task_name: str, *, kwargs: Mapping[str, Any], dedup_key: str | None = None
) -> OutboxMessage:
    """Record `task_name(**kwargs)` in the caller's transaction; publish it after the commit.

    Must run inside `transaction.atomic()` with the change that needs the work, so the work exists
    exactly when the change committed (issue 7). With `dedup_key`, enqueueing the same key again
    returns the existing row and publishes nothing new; the same key for different work is a bug
    and raises ValueError.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "outbox.enqueue() must run inside transaction.atomic() with the change it follows."
        )
    if task_name not in _registered_tasks():
        raise ValueError(f"No Celery task is registered under the name {task_name!r}.")
    if dedup_key is not None and not dedup_key.strip():
        raise ValueError("dedup_key must be None or a non-blank string.")
    payload = _json_kwargs(kwargs)
    message = OutboxMessage(
        task_name=task_name, kwargs=payload, dedup_key=dedup_key, created_at=clock.now()
    )
    if dedup_key is None:
        message.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            existing = OutboxMessage.objects.get(dedup_key=dedup_key)
            if (existing.task_name, existing.kwargs) != (task_name, payload):
                raise ValueError(
                    f"dedup_key {dedup_key!r} already names other work ({existing.task_name})."
                ) from None
            return existing
    message_id = message.pk
    transaction.on_commit(lambda: dispatch_after_commit(message_id, task_name, payload))
    return message


def dispatch_after_commit(message_id: int, task_name: str, kwargs: dict[str, Any]) -> bool:
    """Publish a freshly committed row at once; True if the broker took it.

    Never raises for a broker outage: the row stays pending for the relay and the request that
    committed it succeeds. Under eager Celery (the embedded demo, unit tests) the task runs here,
    and its own exception propagates as it would from a direct call.
    """
    if not _eager() and time.monotonic() < _broker_pause_until:
        logger.info("outbox message %s left for the relay: the broker was just down", message_id)
        return False
    now = clock.now()
    token = uuid.uuid4()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id)
        .claimable(at=now)
        .update(lease_until=now + LEASE, lease_token=token)
    )
    if not claimed:
        return False  # a relay got there first
    message = OutboxMessage(pk=message_id, task_name=task_name, kwargs=kwargs)
    outcome = _publish_claimed(message, token, retry_policy=AFTER_COMMIT_RETRY)
    return outcome is Outcome.DISPATCHED


def relay(*, limit: int = 500) -> RelayResult:
    """Publish up to `limit` pending rows, oldest first; stop at the first broker failure."""
    now = clock.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.claimable(at=now)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).claimable(at=now).update(
                lease_until=now + LEASE, lease_token=token
            )
    messages = list(OutboxMessage.objects.pending().filter(lease_token=token).order_by("pk"))
    dispatched = failed = 0
    broker_down = False
    for message in messages:
        try:
            outcome = _publish_claimed(message, token, retry_policy=RELAY_RETRY)
        except Exception:
            _release_all(token)
            raise
        if outcome is Outcome.DISPATCHED:
            dispatched += 1
        elif outcome is Outcome.FAILED:
            failed += 1
        else:
            # The broker is down: hand the rest back untouched for the next run.
            broker_down = True
            _release_all(token)
            break
    if dispatched or failed or broker_down:
        logger.info(
            "outbox relay: %s claimed, %s dispatched, %s failed%s",
            len(messages),
            dispatched,
            failed,
            ", broker down" if broker_down else "",
        )
    return RelayResult(len(messages), dispatched, failed, broker_down)


def relay_all(*, batch: int = 500, max_batches: int = 20) -> RelayResult:
    """Relay batches until the outbox is empty, the broker fails, or `max_batches` ran."""
    totals = [0, 0, 0]
    down = False
    for _ in range(max_batches):
        result = relay(limit=batch)
        totals[0] += result.claimed
        totals[1] += result.dispatched
        totals[2] += result.failed
        down = result.broker_down
        if down or result.claimed < batch:
            break
    return RelayResult(totals[0], totals[1], totals[2], down)


def prune(*, older_than: dt.timedelta) -> int:
    """Delete rows dispatched before `older_than` ago (their dedup keys are forgotten with them)."""
    deleted, _ = OutboxMessage.objects.dispatched_before(clock.now() - older_than).delete()
    return deleted


def reset_broker_pause() -> None:
    """Forget a recent broker failure (tests; an operator after fixing the broker)."""
    global _broker_pause_until
    _broker_pause_until = 0.0


def _publish_claimed(
    message: OutboxMessage, token: uuid.UUID, *, retry_policy: Mapping[str, float]
) -> Outcome:
    global _broker_pause_until
    eager = _eager()
    try:
        task = _registered_tasks()[message.task_name]
        options: dict[str, Any] = {"task_id": f"outbox-{message.pk}"}
        if not eager:
            options.update(retry=True, retry_policy=dict(retry_policy))
        task.apply_async(kwargs=message.kwargs, **options)
    except BROKER_ERRORS as exc:
        _record_failure(message, token, exc, retry_at=None)
        if eager:
            raise  # the task itself failed in-process; it is not a broker outage
        _broker_pause_until = time.monotonic() + BROKER_DOWN_PAUSE_SECONDS
        logger.warning("outbox message %s waits for the broker: %s", message.pk, exc)
        return Outcome.BROKER_DOWN
    except Exception as exc:
        _record_failure(message, token, exc, retry_at=None if eager else clock.now() + RETRY_LATER)
        if eager:
            raise
        logger.exception(
            "outbox message %s (%s) could not be published", message.pk, message.task_name
        )
        return Outcome.FAILED
    updated = OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
        dispatched_at=clock.now(), lease_until=None, attempts=F("attempts") + 1, last_error=""
    )
    if not updated:
        logger.warning("outbox message %s lost its lease while publishing", message.pk)
    return Outcome.DISPATCHED


def _record_failure(
    message: OutboxMessage, token: uuid.UUID, exc: BaseException, *, retry_at: dt.datetime | None
) -> None:
    OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
        lease_until=retry_at,
        attempts=F("attempts") + 1,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )


def _release_all(token: uuid.UUID) -> None:
    """Hand back the rows of this claim that were neither published nor failed."""
    # A row that failed for another reason keeps its later retry time (RETRY_LATER > LEASE).
    OutboxMessage.objects.pending().filter(
        lease_token=token, lease_until__isnull=False, lease_until__lte=clock.now() + LEASE
    ).update(lease_until=None)
