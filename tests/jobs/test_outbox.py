"""The outbox: follow-up work is written with the change and published once, broker up or down."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from safety_portal.celery import app as celery_app
from safety_portal.core import clock, outbox
from safety_portal.core.outbox import dispatch
from safety_portal.core.outbox.models import OutboxMessage
from tests.jobs import worker_tasks  # noqa: F401  (registers the test tasks)
from tests.jobs.conftest import COUNTER_REDIS_URL

COUNT = "tests.jobs.count_run"


def count_kwargs(counters, name: str) -> dict[str, str]:
    return {"key": counters.key(name), "redis_url": COUNTER_REDIS_URL}


@pytest.fixture
def real_broker():
    """Publish for real in this test (no eager execution), without starting a worker."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` a transaction whose after-commit callbacks run as in production."""

    @contextlib.contextmanager
    def committed():
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            yield

    return committed


def queued_task_ids(private_redis, queue: str = "default") -> list[str]:
    raw = private_redis.client().lrange(queue, 0, -1)
    return [json.loads(item)["headers"]["id"] for item in raw]


# --- writing the row ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(counters):
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "a"))
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_enqueue_refuses_a_task_name_nobody_registered():
    with pytest.raises(ValueError, match="No Celery task is registered"):
        outbox.enqueue("accounts.no_such_task", kwargs={})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"on": dt.date(2025, 1, 1)},
        {"ids": (1, 2)},
        {"user": object()},
        {"ratio": float("nan")},
        {1: "not a string key"},
    ],
    ids=["date", "tuple", "object", "nan", "int-key"],
)
def test_enqueue_refuses_arguments_that_are_not_plain_json(kwargs):
    with pytest.raises(TypeError):
        outbox.enqueue(COUNT, kwargs=kwargs)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_work_runs_after_the_commit_and_not_before(counters, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "after-commit"))
        assert counters.get("after-commit") == 0
    assert counters.get("after-commit") == 1
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert message.attempts == 1
    assert message.last_error == ""


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_work_behind(counters, django_capture_on_commit_callbacks):
    def change_that_fails() -> None:
        with transaction.atomic():
            outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "rolled-back"))
            raise ZeroDivisionError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
    ):
        change_that_fails()
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert counters.get("rolled-back") == 0


@pytest.mark.django_db
def test_the_same_dedup_key_is_enqueued_and_run_once(counters, django_capture_on_commit_callbacks):
    kwargs = count_kwargs(counters, "dedup")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = outbox.enqueue(COUNT, kwargs=kwargs, dedup_key="case:7:decided")
        again = outbox.enqueue(COUNT, kwargs=kwargs, dedup_key="case:7:decided")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        later = outbox.enqueue(COUNT, kwargs=kwargs, dedup_key="case:7:decided")
    assert first.pk == again.pk == later.pk
    assert OutboxMessage.objects.count() == 1
    assert counters.get("dedup") == 1


@pytest.mark.django_db
def test_a_dedup_key_reused_for_other_work_is_an_error(counters):
    outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "one"), dedup_key="k")
    with pytest.raises(ValueError, match="already names other work"):
        outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "two"), dedup_key="k")


@pytest.mark.django_db
def test_a_task_failing_in_eager_mode_propagates_and_its_row_waits_for_the_relay(
    counters, django_capture_on_commit_callbacks
):
    kwargs = count_kwargs(counters, "bug")
    with (
        pytest.raises(ValueError, match="simulated bug"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outbox.enqueue("tests.jobs.fail_with_a_bug", kwargs=kwargs)
    row = OutboxMessage.objects.get()
    assert row.dispatched_at is None
    assert row.attempts == 1
    assert row.last_error == "ValueError: simulated bug"
    assert row.lease_until is None  # free for the next relay run


# --- broker down, broker back ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dead_broker_does_not_hold_up_the_request_and_the_work_is_kept(
    counters, real_broker, broker_switch, dead_broker_url, private_redis, commit
):
    broker_switch(dead_broker_url)
    started = time.monotonic()
    with commit():
        first = outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "one"))
    with commit():
        second = outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "two"))
    elapsed = time.monotonic() - started

    assert elapsed < 2.0, f"two commits took {elapsed:.2f} s with the broker down"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.dispatched_at is None
    assert first.attempts == 1
    assert "Error" in first.last_error  # the connection error is recorded on the row
    # Right after a failure the request path does not even try: the relay will.
    assert second.dispatched_at is None
    assert second.attempts == 0

    broker_switch(private_redis.url())
    result = dispatch.relay()
    assert (result.claimed, result.dispatched, result.broker_down) == (2, 2, False)
    assert sorted(queued_task_ids(private_redis)) == sorted(
        [f"outbox-{first.pk}", f"outbox-{second.pk}"]
    )
    assert dispatch.relay().claimed == 0  # nothing is published twice
    assert len(queued_task_ids(private_redis)) == 2


@pytest.mark.django_db
def test_the_relay_stops_at_a_dead_broker_and_keeps_every_row(
    counters, real_broker, broker_switch, dead_broker_url, commit
):
    broker_switch(dead_broker_url)
    with commit():
        for n in range(5):
            outbox.enqueue(COUNT, kwargs=count_kwargs(counters, f"r{n}"))
    result = dispatch.relay()
    assert result.broker_down
    assert result.dispatched == 0
    assert OutboxMessage.objects.pending().count() == 5
    # Only the row actually tried counts an attempt (once after commit, once by the relay); the
    # others were handed back untouched.
    assert not OutboxMessage.objects.filter(lease_until__isnull=False).exists()
    attempts = list(OutboxMessage.objects.order_by("pk").values_list("attempts", flat=True))
    assert attempts == [2, 0, 0, 0, 0]


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_publish_the_same_row(
    counters, real_broker, broker_switch, dead_broker_url, private_redis
):
    broker_switch(dead_broker_url)
    with transaction.atomic():
        ids = [outbox.enqueue(COUNT, kwargs=count_kwargs(counters, f"c{n}")).pk for n in range(120)]
    broker_switch(private_redis.url())

    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def relay_until_empty() -> None:
        try:
            barrier.wait()
            while dispatch.relay(limit=7).claimed:
                pass
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay_until_empty) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    published = queued_task_ids(private_redis)
    assert len(published) == len(set(published)) == 120
    assert set(published) == {f"outbox-{pk}" for pk in ids}
    assert not OutboxMessage.objects.pending().exists()


@pytest.mark.django_db
def test_relay_outbox_command_fails_while_the_broker_is_down_and_relays_when_it_is_back(
    counters, real_broker, broker_switch, dead_broker_url, private_redis, commit
):
    broker_switch(dead_broker_url)
    with commit():
        outbox.enqueue(COUNT, kwargs=count_kwargs(counters, "cmd"))
    with pytest.raises(CommandError, match="unreachable"):
        call_command("relay_outbox", stdout=io.StringIO())
    assert OutboxMessage.objects.pending().count() == 1

    broker_switch(private_redis.url())
    out = io.StringIO()
    call_command("relay_outbox", stdout=out)
    assert "dispatched 1, failed 0, still pending 0" in out.getvalue()
    assert len(queued_task_ids(private_redis)) == 1


@pytest.mark.django_db
def test_prune_forgets_rows_dispatched_long_ago_and_keeps_the_rest():
    now = clock.now()

    def row(created_at=now, **fields):
        return OutboxMessage.objects.create(task_name=COUNT, created_at=created_at, **fields)

    old = row(dispatched_at=now - dt.timedelta(days=20))
    recent = row(dispatched_at=now - dt.timedelta(days=1))
    pending = row(created_at=now - dt.timedelta(days=30))
    assert dispatch.prune(older_than=dt.timedelta(days=14)) == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()
