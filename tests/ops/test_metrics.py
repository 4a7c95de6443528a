"""`/metrics`: each figure an operator watches is exposed, counted once wherever it happened, and
behind the scrape token."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from moderation.models import Case
from safety_portal.core import audit, clock, metrics
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import PolicyViolation
from safety_portal.core.outbox.tasks import relay
from safety_portal.integrations.partitions import PARTITIONED
from tests.factories.messaging import direct_thread, person, send
from tests.factories.moderation import SCAM, decided, report_user, staff

TOKEN = "scrape-token-for-tests-0123456789abcdef"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scrape_token(settings) -> Iterator[None]:
    settings.METRICS_TOKEN = TOKEN
    metrics.reset()
    yield
    metrics.reset()


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


EXPOSED = [
    "safety_portal_http_request_duration_seconds_count",
    "safety_portal_queue_waiting_cases",
    "safety_portal_queue_overdue_cases",
    "safety_portal_queue_oldest_due_seconds",
    "safety_portal_queue_claimed_cases",
    "safety_portal_outbox_pending",
    "safety_portal_outbox_oldest_seconds",
    "safety_portal_webhook_deliveries_failing",
    "safety_portal_audit_unchained_entries",
    "safety_portal_audit_chain_lag_seconds",
    "safety_portal_report_receipts_waiting",
    "safety_portal_report_receipt_lag_seconds",
    "safety_portal_partition_months_ahead",
    "safety_portal_partition_default_rows",
]


def test_every_gauge_is_exposed_and_the_scrape_is_a_handful_of_queries(
    client: Client, django_assert_max_num_queries
) -> None:
    client.get("/healthz")
    # The queue, outbox, webhooks, chain and receipts, then two per partitioned table (its partitions, and
    # the rows its DEFAULT partition holds).
    with django_assert_max_num_queries(10 + 2 * len(PARTITIONED)):
        samples = scrape(client)
    names = {name for name, _ in samples}
    for name in EXPOSED:
        assert name in names, name


def test_the_scrape_needs_the_token(client: Client, settings) -> None:
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 403
    assert "METRICS_TOKEN" in wrong.json()["detail"]
    settings.METRICS_TOKEN = ""
    unset = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert unset.status_code == 403
    assert unset.json()["detail"].startswith("Set METRICS_TOKEN")


def test_request_latency_is_kept_by_view_name_not_by_path(client: Client) -> None:
    client.get("/healthz")
    client.get("/healthz")
    samples = scrape(client)
    labels = {"view": "healthz", "method": "GET", "status": "2xx"}
    assert value(samples, "safety_portal_http_request_duration_seconds_count", **labels) == 2
    assert (
        value(samples, "safety_portal_http_request_duration_seconds_bucket", le="+Inf", **labels)
        == 2
    )


def test_the_queue_gauges_follow_the_cases(client: Client) -> None:
    moderator = staff("Moderator")
    report_user(person(30), reporter=person(40), category=SCAM)
    report_user(person(31), reporter=person(41), category=SCAM)
    Case.objects.claim_next(actor=moderator)
    with time_machine.travel(clock.now() + dt.timedelta(days=10), tick=False):
        samples = scrape(client)
    assert value(samples, "safety_portal_queue_waiting_cases") == 2  # the claim went idle
    band = Case.objects.first().priority
    assert value(samples, "safety_portal_queue_overdue_cases", band=f"P{band}") == 2
    assert value(samples, "safety_portal_queue_oldest_due_seconds") > 0


def test_claims_and_decisions_are_counted_when_they_commit(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    moderator = staff("Moderator")
    case = report_user(person(30), reporter=person(40), category=SCAM).case
    with django_capture_on_commit_callbacks(execute=True):
        decided(case, moderator, "warn")
    samples = scrape(client)
    assert value(samples, "safety_portal_claims_total", how="chosen") == 1
    assert value(samples, "safety_portal_decisions_total", decision_type="warn") == 1


def test_a_rolled_back_claim_is_not_counted(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    moderator = staff("Moderator")
    report_user(person(30), reporter=person(40), category=SCAM)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                Case.objects.claim_next(actor=moderator)
                raise RuntimeError("the request failed after the claim")
        except RuntimeError:
            pass
    assert value(scrape(client), "safety_portal_claims_total", how="next") == 0


def test_a_refused_send_is_counted_by_its_reason_code(client: Client) -> None:
    writer, reader = person(30, dm="nobody"), person(30, dm="everyone")
    thread = direct_thread(writer, reader)
    send(writer, thread)
    with pytest.raises(PolicyViolation) as refused:
        send(reader, thread)
    samples = scrape(client)
    assert value(samples, "safety_portal_policy_refusals_total", reason=refused.value.code) == 1


def test_task_outcomes_are_counted(client: Client) -> None:
    relay.apply()
    samples = scrape(client)
    assert (
        value(samples, "safety_portal_celery_tasks_total", task="outbox.relay", outcome="success")
        == 1
    )


def test_the_chain_lag_gauge_shows_an_unlinked_entry(client: Client, settings) -> None:
    settings.AUDIT_CHAIN_DEFERRED = True
    with transaction.atomic():
        audit.record(
            actor=SystemActor("tests"), action="tests.entry", target_type="t", target_id="1"
        )
    with time_machine.travel(clock.now() + dt.timedelta(minutes=3), tick=False):
        samples = scrape(client)
    assert value(samples, "safety_portal_audit_unchained_entries") >= 1
    assert value(samples, "safety_portal_audit_chain_lag_seconds") >= 170


def test_a_dead_metrics_store_never_fails_the_counted_action_and_pauses(settings, caplog) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    real, settings.REDIS_URL = settings.REDIS_URL, f"redis://127.0.0.1:{port}/0"
    try:
        metrics.count("throttle_refusals")  # waits in the process: nothing to fail yet
        metrics.flush()  # the send fails: logged, not raised, and counting pauses
        metrics.count("throttle_refusals")  # paused: not even kept
        metrics.flush()  # paused: not even tried
    finally:
        settings.REDIS_URL = real
    warnings = [r for r in caplog.records if "metrics store unreachable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_grafana_dashboard_charts_only_metrics_that_exist(client: Client) -> None:
    dashboard = json.loads(
        (Path(__file__).parents[2] / "deploy/grafana-dashboard.json").read_text()
    )
    charted = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"safety_portal_[a-z_]+", target["expr"])
    }
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    exposed = {f.name for f in text_string_to_metric_families(response.content.decode())}
    assert charted <= exposed, charted - exposed
    assert {f"safety_portal_{m}" for m in metrics.COUNTERS} <= charted  # every counter is charted


def test_the_partition_gauges_show_months_ready_and_rows_in_default(client: Client) -> None:
    samples = scrape(client)
    table = {"table": "audit_auditentry"}
    assert value(samples, "safety_portal_partition_months_ahead", **table) >= 1
    assert value(samples, "safety_portal_partition_default_rows", **table) == 0

    with time_machine.travel(dt.datetime(2019, 3, 1, tzinfo=dt.UTC)), transaction.atomic():
        audit.record(actor=SystemActor("tests.metrics"), action="tests.clock.far_off")
    with time_machine.travel(dt.datetime(2019, 3, 1, tzinfo=dt.UTC)):
        far_off = scrape(client)
    assert value(far_off, "safety_portal_partition_default_rows", **table) == 1
    assert value(far_off, "safety_portal_partition_months_ahead", **table) == -1


def test_a_count_waits_in_its_process_until_the_flusher_sends_it(settings) -> None:
    """No counted action waits on Redis: the count is in Redis within FLUSH_EVERY seconds,
    sent by the process's own flusher thread, not by the action. (A Redis database of its own:
    a new store, whose flusher starts with this first count and sleeps before it sends.)"""
    import redis

    settings.REDIS_URL = settings.REDIS_URL.rsplit("/", 1)[0] + "/8"
    metrics.reset()
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = metrics._key("throttle_refusals")
    metrics.count("throttle_refusals")
    assert client.hgetall(key) == {}
    deadline = time.monotonic() + 5 * metrics.FLUSH_EVERY
    while not client.hgetall(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.hgetall(key) == {b"[]": b"1"}
    metrics.reset()
