"""`GET /metrics` for Prometheus (issue 14.2): the shared counters and latency of
`safety_portal.core.metrics`, and the state of the queue, the outbox, the webhooks and the audit
chain read from PostgreSQL at scrape time.

The gauges are read, not counted, because the database already holds them exactly (and any web
process can answer a scrape): a handful of aggregate queries, each over a partial or ordered index
(`case_queue`, `outbox_pending`, `webhook_due`, `audit_unchained`,
`report_receipt_waiting`), every 15-60 s.

Access: a Bearer token (METRICS_TOKEN), compared in constant time. Without one configured, only
the demo (DEBUG) answers; a production process refuses and says how to set it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from moderation.models import Case, ReportReceipt
from safety_portal.core import clock, metrics
from safety_portal.core.api.models import WebhookDelivery
from safety_portal.core.audit.chainer import unchained_tail
from safety_portal.core.outbox.models import OutboxMessage
from safety_portal.core.partitions import default_rows, months_ahead_covered, partitions

from .partitions import PARTITIONED

P = metrics.PREFIX


def _gauge(name: str, help_text: str, value: float, **labels: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(P + name, help_text, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


class DatabaseState(Collector):
    """What the database says right now: one collect per scrape."""

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        yield from self._queue(now)
        yield from self._outbox(now)
        yield from self._webhooks()
        tail = unchained_tail()
        yield _gauge("audit_unchained_entries", "Audit entries not linked yet.", tail.count)
        yield _gauge(
            "audit_chain_lag_seconds",
            "Age of the oldest audit entry the chainer has not linked.",
            tail.age_seconds(now),
        )
        yield from self._receipts(now)
        yield from self._partitions(now)

    def _receipts(self, now) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        waiting = ReportReceipt.objects.waiting().aggregate(
            n=Count("id"), oldest=Min("received_at")
        )
        yield _gauge(
            "report_receipts_waiting",
            "Reports received with Prefer: respond-async and not filed yet (D38).",
            waiting["n"],
        )
        oldest = waiting["oldest"]
        yield _gauge(
            "report_receipt_lag_seconds",
            "Age of the oldest received report the filer has not filed.",
            0.0 if oldest is None else (now - oldest).total_seconds(),
        )

    def _queue(self, now) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        waiting = Case.objects.open().unclaimed(at=now)
        yield _gauge("queue_waiting_cases", "Open cases nobody holds.", waiting.count())
        overdue = GaugeMetricFamily(
            P + "queue_overdue_cases", "Open cases past their due time, by band.", labels=["band"]
        )
        by_band = dict(
            Case.objects.overdue(at=now)
            .order_by()
            .values_list("priority")
            .annotate(n=Count("id"))
            .values_list("priority", "n")
        )
        for band in (1, 2, 3, 4):
            overdue.add_metric([f"P{band}"], by_band.get(band, 0))
        yield overdue
        oldest_due = Case.objects.open().aggregate(d=Min("due_at"))["d"]
        yield _gauge(
            "queue_oldest_due_seconds",
            "How far past due the most overdue open case is (negative: due in the future).",
            0.0 if oldest_due is None else (now - oldest_due).total_seconds(),
        )
        yield _gauge(
            "queue_claimed_cases",
            "Open cases held by a moderator with a live claim.",
            Case.objects.open().filter(claimed_by__isnull=False, claim_expires_at__gt=now).count(),
        )

    def _outbox(self, now) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        pending = OutboxMessage.objects.pending().aggregate(n=Count("id"), oldest=Min("created_at"))
        yield _gauge(
            "outbox_pending", "Follow-up tasks not yet accepted by the broker.", pending["n"]
        )
        oldest = pending["oldest"]
        yield _gauge(
            "outbox_oldest_seconds",
            "Age of the oldest follow-up task waiting for the broker.",
            0.0 if oldest is None else (now - oldest).total_seconds(),
        )

    def _partitions(self, now) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        ahead = GaugeMetricFamily(
            P + "partition_months_ahead",
            "Months after the current one that already have a partition (-1: not even this one).",
            labels=["table"],
        )
        stray = GaugeMetricFamily(
            P + "partition_default_rows",
            "Rows in the DEFAULT partition, whose month had no partition (should be 0).",
            labels=["table"],
        )
        for spec in PARTITIONED:
            attached = partitions(spec)
            if not attached:
                continue  # a plain table (the SQLite demo): nothing to watch
            ahead.add_metric([spec.table], months_ahead_covered(spec, now, attached))
            has_default = any(p.is_default for p in attached)
            stray.add_metric([spec.table], default_rows(spec) if has_default else 0)
        yield ahead
        yield stray

    def _webhooks(self) -> Iterator[Metric]:
        failing = GaugeMetricFamily(
            P + "webhook_deliveries_failing",
            "Webhook deliveries that failed: retrying, or given up after the last retry.",
            labels=["status"],
        )
        statuses = WebhookDelivery.Status
        counts = dict(
            WebhookDelivery.objects.filter(status__in=[statuses.RETRYING, statuses.FAILED])
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        for status in (statuses.RETRYING, statuses.FAILED):
            failing.add_metric([status.value], counts.get(status.value, 0))
        yield failing


class SharedCounters(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from metrics.families()


def registry() -> CollectorRegistry:
    """A registry per scrape: nothing of it outlives the request."""
    built = CollectorRegistry(auto_describe=False)
    built.register(SharedCounters())
    built.register(DatabaseState())
    return built


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return settings.DEBUG
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        detail = (
            "Send the scrape token: Authorization: Bearer <METRICS_TOKEN>."
            if settings.METRICS_TOKEN
            else "Set METRICS_TOKEN on the web processes and give it to Prometheus."
        )
        return JsonResponse({"code": "forbidden", "detail": detail}, status=403)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
