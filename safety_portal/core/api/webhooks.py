"""Outbound webhooks: signing, recording events, and sending them (issue 6).

Signature (what a receiver checks):

    X-Safety-Portal-Timestamp: 1767225600             (Unix seconds when this attempt was sent)
    X-Safety-Portal-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
    X-Safety-Portal-Event:     decision.taken
    X-Safety-Portal-Delivery:  <uuid of the event; the same on every retry>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes, compares in constant
time, refuses a timestamp more than REPLAY_WINDOW_SECONDS (5 minutes) away from its own clock, and
ignores a delivery id it has already processed (a retry after a lost response re-sends the same id).
`verify_signature` below does the first three.

Flow: `enqueue_event` writes `WebhookDelivery` rows in the caller's transaction (so an event exists
exactly when the change that caused it committed); a Celery task (tasks.py), queued after commit or
swept by `deliver_due`, calls `deliver`, which claims the row with a conditional UPDATE (a lease),
sends once, and records the outcome. Failures are retried with exponential backoff
(BACKOFF_BASE_SECONDS * 2^(attempt-1), capped) up to MAX_ATTEMPTS, then the delivery is marked
failed; every attempt's status code or error is kept on the row, which the portal shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from safety_portal.core import clock
from safety_portal.core.audit.redaction import jsonable

from .models import ApiClient, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .scopes import Scope

logger = logging.getLogger("safety_portal.core.api.webhooks")

SIGNATURE_HEADER = "X-Safety-Portal-Signature"
TIMESTAMP_HEADER = "X-Safety-Portal-Timestamp"
EVENT_HEADER = "X-Safety-Portal-Event"
DELIVERY_HEADER = "X-Safety-Portal-Delivery"
REPLAY_WINDOW_SECONDS = 300
# A client receives an event only while it holds the scope that would let it read the same facts.
EVENT_SCOPES: dict[str, str] = {event: Scope.CASES_READ for event in WebhookEvent.values} | {
    WebhookEvent.NOTICE_CREATED: Scope.NOTICES_READ
}


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("WEBHOOK_MAX_ATTEMPTS", 8))


def backoff(attempt: int) -> dt.timedelta:
    """Wait after failed attempt number `attempt` (1-based): 30 s, 1 min, 2 min, ... capped at 6 h."""
    base = float(_setting("WEBHOOK_BACKOFF_BASE_SECONDS", 30))
    cap = float(_setting("WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: dt.datetime,
    tolerance_seconds: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """What a receiver does: right signature, and a timestamp inside the replay window."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature or "")


def event_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed); identical on every retry of a delivery."""
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def enqueue_event(
    client_or_endpoint: ApiClient | WebhookEndpoint | None,
    event_type: str,
    payload: Mapping[str, Any],
) -> list[WebhookDelivery]:
    """Record one delivery per subscribed endpoint, in the caller's transaction.

    `client_or_endpoint`: an endpoint (that one, if active and subscribed), a client (its subscribed
    endpoints), or None (every subscribed endpoint of every active client). Only clients holding
    the event's scope (`EVENT_SCOPES`, cases:read) receive it. Nothing is sent here;
    the caller (or the jobs' outbox) queues `tasks.deliver_webhook` after commit, and the periodic
    `deliver_due_webhooks` sweep picks up anything that was not queued. Payloads carry ids and
    codes, never personal data (POLICY.md §6).
    """
    endpoints = _subscribers(event_type)
    if isinstance(client_or_endpoint, WebhookEndpoint):
        endpoints = [e for e in endpoints if e.pk == client_or_endpoint.pk]
    elif isinstance(client_or_endpoint, ApiClient):
        endpoints = [e for e in endpoints if e.client_id == client_or_endpoint.pk]
    elif client_or_endpoint is not None:
        raise TypeError("pass an ApiClient, a WebhookEndpoint or None")
    now = clock.now()
    data = jsonable(dict(payload))
    deliveries = [_delivery(endpoint, event_type, data, now) for endpoint in endpoints]
    # One INSERT per row keeps primary keys available on every backend (the task needs them).
    for delivery in deliveries:
        delivery.save(force_insert=True)
    return deliveries


def enqueue_events(event_type: str, payloads: list[Mapping[str, Any]]) -> list[WebhookDelivery]:
    """`enqueue_event(None, ...)` for many events of one type: the subscribed endpoints are
    looked up once and the deliveries written in one INSERT (their keys read back), for jobs
    that announce thousands of events at a time (notice.created after a minimum-age sweep)."""
    endpoints = _subscribers(event_type)
    if not endpoints or not payloads:
        return []
    now = clock.now()
    rows = [
        _delivery(endpoint, event_type, jsonable(dict(payload)), now)
        for payload in payloads
        for endpoint in endpoints
    ]
    return WebhookDelivery.objects.bulk_create(rows)


def _subscribers(event_type: str) -> list[WebhookEndpoint]:
    """Endpoints subscribed to `event_type` whose client holds the event's scope."""
    if event_type not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event_type!r}")
    scope = EVENT_SCOPES[event_type]
    return [e for e in WebhookEndpoint.objects.subscribed(event_type) if e.client.has_scope(scope)]


def _delivery(
    endpoint: WebhookEndpoint, event_type: str, data: Any, now: dt.datetime
) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint=endpoint, event_type=event_type, payload=data, next_attempt_at=now, created_at=now
    )


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: int
    attempted: bool
    status: str
    attempts: int
    status_code: int | None = None
    error: str = ""
    next_attempt_at: dt.datetime | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the signature was made for the registered URL only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


def _send(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """POST once. Returns (status code or None, error text); never raises for network trouble."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        # Unreachable host, refused connection, timeout, malformed response: retried later.
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:500]


def deliver(delivery_id: int) -> DeliveryOutcome:
    """Attempt one delivery if it is due; safe to call twice or concurrently (one sender wins).

    The claim is a conditional UPDATE that sets a lease; the HTTP request runs outside any
    transaction (no row lock is held over the network); the outcome is written only by the holder
    of the lease.
    """
    timeout = float(_setting("WEBHOOK_TIMEOUT_SECONDS", 5))
    now = clock.now()
    lease = now + dt.timedelta(seconds=timeout + 30)
    claimed = WebhookDelivery.objects.due(at=now).filter(pk=delivery_id).update(lease_until=lease)
    delivery = WebhookDelivery.objects.select_related("endpoint__client").get(pk=delivery_id)
    if not claimed:
        return DeliveryOutcome(
            delivery.pk,
            attempted=False,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
        )
    endpoint = delivery.endpoint
    attempts = delivery.attempts + 1
    if not (endpoint.is_active and endpoint.client.is_active):
        code, error = None, "endpoint disabled or client revoked"
        give_up = True
    else:
        body = event_body(delivery)
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "SafetyPortal-Webhooks/1",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.event_id),
        }
        code, error = _send(endpoint.url, body, headers, timeout)
        if code is not None and not 200 <= code < 300 and not error:
            error = f"HTTP {code}"
        give_up = attempts >= max_attempts()
    finished = clock.now()
    success = code is not None and 200 <= code < 300
    if success:
        status, next_at = WebhookDelivery.Status.DELIVERED, None
    elif give_up:
        status, next_at = WebhookDelivery.Status.FAILED, None
    else:
        status, next_at = WebhookDelivery.Status.RETRYING, finished + backoff(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk, lease_until=lease).update(
        status=status,
        attempts=attempts,
        next_attempt_at=next_at,
        lease_until=None,
        last_attempt_at=finished,
        last_status_code=code,
        last_error="" if success else error,
        delivered_at=finished if success else None,
    )
    log = logger.info if success else logger.warning
    log(
        "webhook delivery %s (%s) to endpoint %s: %s after attempt %s%s",
        delivery.pk,
        delivery.event_type,
        endpoint.pk,
        status,
        attempts,
        f" ({error})" if error else "",
    )
    return DeliveryOutcome(
        delivery.pk,
        attempted=True,
        status=str(status),
        attempts=attempts,
        status_code=code,
        error="" if success else error,
        next_attempt_at=next_at,
    )


def due_delivery_ids(*, limit: int = 500) -> list[int]:
    """Ids of deliveries that should be attempted now, oldest first (for the periodic sweep)."""
    return list(
        WebhookDelivery.objects.due(at=clock.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
