"""Outbound webhooks: signed, retried with exponential backoff, logged (issue 6).

A tiny HTTP server on 127.0.0.1, started by the test, plays the receiving service.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import time_machine
from django.db import transaction

from safety_portal.core import clock
from safety_portal.core.api import tasks, webhooks
from safety_portal.core.api.models import ApiClient, WebhookDelivery, WebhookEndpoint

from .conftest import ADMIN

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    """Answers with the next status from `statuses` (the last one repeats) and keeps requests."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers.items()), body))
            status = state.next_status()
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/safety"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscriber(make_caller, receiver: Receiver) -> tuple[ApiClient, WebhookEndpoint, str]:
    client = make_caller("cases:read", name="partner-tools").client
    endpoint, secret = WebhookEndpoint.objects.register(
        client=client, url=receiver.url, events=["decision.taken", "case.closed"], actor=ADMIN
    )
    return client, endpoint, secret


def _enqueue(client: ApiClient, payload: dict | None = None) -> WebhookDelivery:
    with transaction.atomic():
        (delivery,) = webhooks.enqueue_event(
            client, "decision.taken", payload or {"case_id": 7, "decision": "suspend"}
        )
    return delivery


def test_a_delivery_is_signed_and_the_receiver_can_verify_it(subscriber, receiver):
    client, _, secret = subscriber
    delivery = _enqueue(client)
    outcome = webhooks.deliver(delivery.pk)
    assert outcome.status == "delivered"
    assert outcome.status_code == 200
    headers, body = receiver.requests[0]
    assert headers["X-Safety-Portal-Event"] == "decision.taken"
    assert headers["X-Safety-Portal-Delivery"] == str(delivery.event_id)
    assert webhooks.verify_signature(
        secret,
        timestamp=headers["X-Safety-Portal-Timestamp"],
        signature=headers["X-Safety-Portal-Signature"],
        body=body,
        now=clock.now(),
    )
    envelope = json.loads(body)
    assert envelope["type"] == "decision.taken"
    assert envelope["data"] == {"case_id": 7, "decision": "suspend"}


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_fail_verification(subscriber, receiver):
    client, _, secret = subscriber
    webhooks.deliver(_enqueue(client).pk)
    headers, body = receiver.requests[0]
    stamp, signature = headers["X-Safety-Portal-Timestamp"], headers["X-Safety-Portal-Signature"]
    now = clock.now()

    def ok(secret_: str, body_: bytes, at: dt.datetime) -> bool:
        return webhooks.verify_signature(
            secret_, timestamp=stamp, signature=signature, body=body_, now=at
        )

    assert ok(secret, body, now)
    assert not ok(secret, body.replace(b"suspend", b"warn"), now)
    assert not ok("0" * 64, body, now)
    assert not ok(secret, body, now + dt.timedelta(seconds=webhooks.REPLAY_WINDOW_SECONDS + 1))


def test_failures_are_retried_with_exponential_backoff_then_delivered(subscriber, receiver):
    client, _, _ = subscriber
    receiver.statuses = [500, 503, 200]
    delivery = _enqueue(client)
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        first = webhooks.deliver(delivery.pk)
        assert (first.status, first.attempts, first.status_code) == ("retrying", 1, 500)
        assert first.next_attempt_at == start + dt.timedelta(seconds=30)
        # Not due yet: a second call (a duplicate task) sends nothing.
        assert not webhooks.deliver(delivery.pk).attempted
        traveller.move_to(first.next_attempt_at)
        second = webhooks.deliver(delivery.pk)
        assert (second.status, second.attempts) == ("retrying", 2)
        assert second.next_attempt_at == first.next_attempt_at + dt.timedelta(seconds=60)
        traveller.move_to(second.next_attempt_at)
        third = webhooks.deliver(delivery.pk)
    assert (third.status, third.attempts) == ("delivered", 3)
    assert len(receiver.requests) == 3
    event_ids = {headers["X-Safety-Portal-Delivery"] for headers, _ in receiver.requests}
    assert event_ids == {str(delivery.event_id)}  # receivers can de-duplicate retries
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.delivered_at is not None
    assert delivery.last_error == ""


def test_each_failed_attempt_is_logged_on_the_row_and_in_the_log(subscriber, receiver, caplog):
    client, _, _ = subscriber
    receiver.statuses = [502]
    delivery = _enqueue(client)
    with caplog.at_level("WARNING", logger="safety_portal.core.api.webhooks"):
        webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        "retrying",
        502,
        "HTTP 502",
    )
    assert f"webhook delivery {delivery.pk}" in caplog.text


def test_delivery_gives_up_after_the_last_attempt(subscriber, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    client, _, _ = subscriber
    receiver.statuses = [500]
    delivery = _enqueue(client)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(3):
            outcome = webhooks.deliver(delivery.pk)
            if outcome.next_attempt_at:
                traveller.move_to(outcome.next_attempt_at)
    assert (outcome.status, outcome.attempts, outcome.next_attempt_at) == ("failed", 3, None)
    assert webhooks.due_delivery_ids() == []


def test_an_unreachable_receiver_is_recorded_and_retried(make_caller):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_caller("cases:read").client
    WebhookEndpoint.objects.register(
        client=client, url=f"http://127.0.0.1:{port}/x", events=["decision.taken"], actor=ADMIN
    )
    outcome = webhooks.deliver(_enqueue(client).pk)
    assert outcome.status == "retrying"
    assert outcome.status_code is None
    assert "Connection" in outcome.error or "refused" in outcome.error.lower()


def test_a_redirect_is_a_failure_not_followed(subscriber, receiver):
    client, _, _ = subscriber
    receiver.statuses = [302]
    outcome = webhooks.deliver(_enqueue(client).pk)
    assert outcome.status == "retrying"
    assert outcome.status_code == 302
    assert len(receiver.requests) == 1


def test_events_are_recorded_only_if_the_change_commits(subscriber):
    client, _, _ = subscriber

    def failing_decision() -> None:
        with transaction.atomic():
            webhooks.enqueue_event(client, "decision.taken", {"case_id": 1})
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        failing_decision()
    assert not WebhookDelivery.objects.exists()


def test_only_subscribed_active_endpoints_get_events(make_caller, subscriber, receiver):
    client, _, _ = subscriber
    other = make_caller("cases:read").client
    WebhookEndpoint.objects.register(
        client=other, url=receiver.url, events=["case.opened"], actor=ADMIN
    )
    with transaction.atomic():
        assert len(webhooks.enqueue_event(None, "decision.taken", {"case_id": 1})) == 1
        assert len(webhooks.enqueue_event(other, "decision.taken", {"case_id": 1})) == 0
        assert len(webhooks.enqueue_event(None, "case.opened", {"case_id": 1})) == 1
    ApiClient.objects.revoke(client, actor=ADMIN, reason="retired")
    with transaction.atomic():
        assert webhooks.enqueue_event(None, "decision.taken", {"case_id": 2}) == []


def test_a_delivery_for_a_revoked_client_is_not_sent(subscriber, receiver):
    client, _, _ = subscriber
    delivery = _enqueue(client)
    ApiClient.objects.revoke(client, actor=ADMIN, reason="retired")
    outcome = webhooks.deliver(delivery.pk)
    assert outcome.status == "failed"
    assert receiver.requests == []


def test_the_task_sends_and_running_it_twice_sends_once(subscriber, receiver):
    client, _, _ = subscriber
    delivery = _enqueue(client)
    assert tasks.deliver_webhook.delay(delivery.pk).get() == "delivered"
    assert tasks.deliver_webhook.delay(delivery.pk).get() == "delivered"
    assert len(receiver.requests) == 1


def test_the_task_schedules_the_retry_and_the_sweep_sends_it_when_due(subscriber, receiver):
    client, _, _ = subscriber
    receiver.statuses = [500, 200]
    delivery = _enqueue(client)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        assert tasks.deliver_webhook.delay(delivery.pk).get() == "retrying"
        assert tasks.deliver_due_webhooks.delay().get() == 0  # not due yet
        traveller.shift(dt.timedelta(seconds=31))
        assert tasks.deliver_due_webhooks.delay().get() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(receiver.requests) == 2


def test_registration_refuses_bad_urls_and_unknown_events(make_caller):
    from safety_portal.core.errors import DomainError

    client = make_caller("cases:read").client
    with pytest.raises(DomainError) as bad:
        WebhookEndpoint.objects.register(
            client=client, url="ftp://x.example/", events=["nope"], actor=ADMIN
        )
    assert set(bad.value.fields) == {"url", "events"}
