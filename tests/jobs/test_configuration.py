"""The Celery configuration that the reliability guarantees rest on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import OperationalError

from safety_portal.celery import TRANSIENT_ERRORS
from safety_portal.celery import app as celery_app
from tests.jobs.conftest import ROOT


@pytest.fixture(scope="module")
def portal_tasks():
    celery_app.autodiscover_tasks(force=True)
    return {
        name: task
        for name, task in celery_app.tasks.items()
        if not name.startswith(("celery.", "tests."))
    }


def test_every_portal_task_is_acknowledged_late_and_requeued_when_its_worker_dies(portal_tasks):
    assert portal_tasks, "no task was discovered"
    for name, task in portal_tasks.items():
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name


def test_every_portal_task_has_a_time_limit(portal_tasks):
    for name, task in portal_tasks.items():
        hard = task.time_limit or celery_app.conf.task_time_limit
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        assert hard, name
        assert soft, name
        assert soft < hard, name


def test_transient_database_errors_are_retried_with_backoff_by_default(portal_tasks):
    task = portal_tasks["accounts.birthday_transitions"]
    assert OperationalError in TRANSIENT_ERRORS
    assert set(TRANSIENT_ERRORS) <= set(task.autoretry_for)
    assert task.retry_backoff
    assert task.max_retries == 5


def test_the_beat_schedule_names_only_registered_tasks(portal_tasks):
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled - set(portal_tasks) == set()


def test_each_queue_has_its_own_routing_key_so_no_message_is_delivered_twice():
    keys = [queue.routing_key for queue in celery_app.conf.task_queues]
    assert sorted(keys) == ["default", "periodic", "webhooks"]
    route = celery_app.amqp.router.route({}, "accounts.birthday_transitions")
    assert route["queue"].name == "periodic"
    assert celery_app.amqp.router.route({}, "outbox.relay")["queue"].name == "default"


def test_the_visibility_timeout_outlasts_the_longest_task_and_retry_countdown(portal_tasks):
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    longest = max(
        (task.time_limit or celery_app.conf.task_time_limit) for task in portal_tasks.values()
    )
    assert visibility > longest
    assert visibility > max(task.retry_backoff_max for task in portal_tasks.values())


@pytest.mark.parametrize(
    ("redis_url", "eager"), [("", "True"), ("redis://127.0.0.1:6379/8", "False")]
)
def test_tasks_run_eagerly_only_without_redis_url(redis_url, eager):
    env = {**os.environ, "REDIS_URL": redis_url, "DEBUG": "true"}
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from safety_portal.celery import app; print(app.conf.task_always_eager)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "safety_portal.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert printed == eager
