"""Real workers, a real broker, real faults: outage, SIGKILL mid-task, transient errors.

Each test runs `celery worker` processes against its own redis-server (see conftest.py), so the
broker can be stopped and the visibility timeout is 5 seconds instead of an hour.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.roles import Role
from messaging.models import Message
from moderation import services
from moderation.models import Case, Decision
from safety_portal.celery import app as celery_app
from safety_portal.core import outbox
from safety_portal.core.api.models import ApiClient, WebhookDelivery, WebhookEndpoint
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox import dispatch
from safety_portal.core.outbox.models import JobRun, OutboxMessage, UserNotice
from tests.dates import born
from tests.factories.accounts import AppUserFactory, StaffFactory
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.jobs import worker_tasks  # noqa: F401  (registers the test tasks)
from tests.jobs.conftest import COUNTER_REDIS_URL, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@dataclass
class PartnerService:
    """A service on 127.0.0.1 that counts the webhook events it receives, by event id."""

    url: str = ""
    received: Counter[str] = field(default_factory=Counter)


@pytest.fixture
def webhook_receiver() -> Iterator[PartnerService]:
    partner = PartnerService()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            partner.received[json.loads(body)["id"]] += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    partner.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield partner
    server.shutdown()
    server.server_close()


def runs_in_log(worker, message_id: int) -> int:
    """How many times a worker finished the task published for outbox row `message_id`."""
    return len(re.findall(rf"\[outbox-{message_id}\] succeeded", worker.log_text()))


def test_a_broker_outage_loses_no_follow_up_work_and_each_piece_runs_once(
    private_redis, broker_switch, start_worker, counters, system, today, webhook_receiver
):
    # Given people about to message, report and decide, a partner service subscribed to case and
    # decision events, and a user turning 16 today.
    client, _token = ApiClient.objects.create_client(
        name="partner-tools", scopes=["cases:read"], actor=system
    )
    WebhookEndpoint.objects.register(
        client=client,
        url=webhook_receiver.url,
        events=["case.opened", "decision.taken", "case.closed"],
        actor=system,
    )
    alice, bob = person(17, dm="friends"), person(17, dm="friends")
    befriend(alice, bob)
    thread = direct_thread(alice, bob)
    senior = StaffFactory(groups=[Role.SENIOR_MODERATOR.value])
    turning = AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0))

    # When the broker is down...
    private_redis.stop()
    broker_switch(private_redis.url())
    started = time.monotonic()
    message = send(alice, thread, "see you at practice")
    report = services.file_report(
        actor=bob,
        reporter=bob,
        subject_type="user",
        subject_id=alice.pk,
        category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
        explanation="Keeps sending the same joke after I asked to stop.",
    )
    case = Case.objects.claim(report.case, actor=senior)
    decision = services.decide(
        case, actor=senior, decision_type="warn", ground=_warn_ground(), facts="Repeated jokes."
    )
    # ...the follow-up work that the changes record in the outbox:
    with transaction.atomic():
        outbox.enqueue(
            "accounts.birthday_transitions",
            kwargs={"today": today.isoformat()},
            dedup_key=f"test-birthdays:{today}",
        )
        for n in range(3):
            outbox.enqueue(
                "tests.jobs.count_run",
                kwargs={"key": counters.key(f"effect-{n}"), "redis_url": COUNTER_REDIS_URL},
            )
    elapsed = time.monotonic() - started

    # Then sending, reporting and deciding all worked, without waiting for the broker...
    assert Message.objects.filter(pk=message.pk).exists()
    assert Decision.objects.filter(pk=decision.pk, type="warn").exists()
    assert elapsed < 5.0, f"the requests took {elapsed:.1f} s with the broker down"
    pending = list(OutboxMessage.objects.pending().values_list("pk", flat=True))
    events = set(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert events == {"case.opened", "decision.taken", "case.closed"}
    assert len(pending) == 4 + 3  # our four, and one webhook delivery per event
    assert not UserNotice.objects.exists()

    # ...and when the broker is back, the relay hands everything to a worker, once.
    private_redis.start()
    worker = start_worker(private_redis.url())
    call_command("relay_outbox", verbosity=0)
    wait_until(
        lambda: all(runs_in_log(worker, pk) == 1 for pk in pending),
        timeout=30,
        what="every recorded task to run",
    )
    assert [counters.get(f"effect-{n}") for n in range(3)] == [1, 1, 1]
    assert list(UserNotice.objects.values_list("user_id", flat=True)) == [turning.pk]
    event_ids = {str(e) for e in WebhookDelivery.objects.values_list("event_id", flat=True)}
    received = webhook_receiver.received
    wait_until(lambda: all(received[e] for e in event_ids), timeout=10, what="the webhooks")
    assert {e: received[e] for e in event_ids} == dict.fromkeys(event_ids, 1)

    # A second relay finds nothing to publish, and nothing runs again.
    assert dispatch.relay().claimed == 0
    time.sleep(1.5)
    assert all(runs_in_log(worker, pk) == 1 for pk in pending)
    assert [counters.get(f"effect-{n}") for n in range(3)] == [1, 1, 1]
    assert {e: received[e] for e in event_ids} == dict.fromkeys(event_ids, 1)


def _warn_ground() -> str:
    from safety_portal.rules.grounds import GROUNDS

    return next(iter(GROUNDS))


def test_a_worker_killed_mid_task_leaves_the_task_to_be_redelivered_with_a_correct_outcome(
    private_redis, broker_switch, start_worker, system, today
):
    # Nine users turn 16 today; the job writes their notices in batches of three.
    users = [AppUserFactory(birthdate=born(16, on=today, days_after_birthday=0)) for _ in range(9)]
    broker_switch(private_redis.url())
    first_worker = start_worker(private_redis.url())

    # Hold a row lock on a user of the second batch, so the job stops inside that batch.
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
    )
    blocker.execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [users[4].pk])
    try:
        with transaction.atomic():
            job = outbox.enqueue(
                "accounts.birthday_transitions",
                kwargs={"today": today.isoformat(), "batch_size": 3},
            )
        wait_until(
            lambda: UserNotice.objects.count() == 3, timeout=30, what="the first batch to commit"
        )
        wait_until(_job_waits_on_the_lock, timeout=10, what="the second batch to block")

        # When the worker is killed mid-task (no warm shutdown, no acknowledgement)...
        first_worker.kill()
    finally:
        blocker.rollback()
        blocker.close()
    assert not JobRun.objects.filter(completed_at__isnull=False).exists()

    # ...a new worker gets the message again once the visibility timeout (5 s) has passed...
    second_worker = start_worker(private_redis.url())
    wait_until(
        lambda: JobRun.objects.filter(completed_at__isnull=False).exists(),
        timeout=45,
        what="the redelivered job to complete",
    )

    # ...and the outcome is the one of a single clean run.
    assert f"[outbox-{job.pk}] received" in first_worker.log_text()
    assert f"[outbox-{job.pk}] succeeded" not in first_worker.log_text()
    assert runs_in_log(second_worker, job.pk) == 1
    notices = list(UserNotice.objects.values_list("user_id", flat=True))
    assert sorted(notices) == sorted(u.pk for u in users)
    [summary] = AuditEntry.objects.filter(action="accounts.birthday_transitions.completed")
    assert summary.after["turning"]["16"] == 9


def _job_waits_on_the_lock() -> bool:
    """The worker's transaction waits for our row lock (the deferred foreign-key check of its
    notices, at COMMIT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_killed_pool_process_is_replaced_and_its_task_runs_again(
    private_redis, broker_switch, start_worker, today
):
    """reject_on_worker_lost: the main process requeues the message at once, no timeout needed."""
    users = [AppUserFactory(birthdate=born(18, on=today, days_after_birthday=0)) for _ in range(4)]
    broker_switch(private_redis.url())
    worker = start_worker(private_redis.url())
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
    )
    blocker.execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [users[2].pk])
    try:
        with transaction.atomic():
            outbox.enqueue(
                "accounts.birthday_transitions",
                kwargs={"today": today.isoformat(), "batch_size": 2},
            )
        wait_until(_job_waits_on_the_lock, timeout=30, what="the job to block in batch two")
        children = subprocess.run(
            ["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGKILL)
    finally:
        blocker.rollback()
        blocker.close()

    wait_until(
        lambda: JobRun.objects.filter(completed_at__isnull=False).exists(),
        timeout=30,
        what="the requeued job to complete",
    )
    assert "WorkerLostError" in worker.log_text()
    assert sorted(UserNotice.objects.values_list("user_id", flat=True)) == sorted(
        u.pk for u in users
    )
    assert AuditEntry.objects.filter(action="accounts.birthday_transitions.completed").count() == 1


def test_transient_errors_are_retried_with_backoff_and_bugs_are_not(
    private_redis, broker_switch, start_worker, counters
):
    broker_switch(private_redis.url())
    worker = start_worker(private_redis.url())
    with transaction.atomic():
        for task in ("tests.jobs.fail_first_attempt", "tests.jobs.fail_with_a_bug"):
            outbox.enqueue(task, kwargs={"key": counters.key(task), "redis_url": COUNTER_REDIS_URL})

    wait_until(
        lambda: counters.get("tests.jobs.fail_first_attempt:done") == 1,
        timeout=20,
        what="the retried task to succeed",
    )
    assert counters.get("tests.jobs.fail_first_attempt:attempts") == 2
    assert "Retry in" in worker.log_text()
    time.sleep(1.5)  # longer than the first backoff (at most 1 s)
    assert counters.get("tests.jobs.fail_with_a_bug:attempts") == 1
    assert "ValueError: simulated bug" in worker.log_text()


def test_every_scheduled_job_runs_twice_under_a_real_worker_without_error(
    private_redis, broker_switch, start_worker
):
    """The beat schedule names only tasks the worker knows, and each is safe to run twice."""
    broker_switch(private_redis.url())
    worker = start_worker(private_redis.url(), concurrency=2)
    names = sorted({entry["task"] for entry in celery_app.conf.beat_schedule.values()})
    for _ in range(2):
        for name in names:
            celery_app.send_task(name)
    wait_until(
        lambda: all(_finished(worker, name) == 2 for name in names),
        timeout=60,
        what="every scheduled job to run twice",
    )
    assert "raised unexpected" not in worker.log_text()
    assert "Received unregistered task" not in worker.log_text()


def _finished(worker, name: str) -> int:
    return len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] succeeded", worker.log_text()))
