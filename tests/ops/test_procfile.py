"""The processes of deploy/Procfile, started as written on loopback, carry a report from the API
to its webhook: web (gunicorn), worker and beat (Celery), against the test database and a Redis
of their own (issue 14.6)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from safety_portal.core import clock
from safety_portal.core.api import webhooks
from safety_portal.core.api.models import ApiClient, WebhookEndpoint
from safety_portal.core.audit.actors import SystemActor
from tests.api.test_webhooks import Receiver, receiver  # noqa: F401 - the webhook receiver fixture
from tests.factories.messaging import person
from tests.factories.moderation import api_report_body
from tests.jobs.conftest import _database_url, free_port, private_redis, wait_until  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
ACTOR = SystemActor("tests.procfile")
pytestmark = pytest.mark.django_db(transaction=True)


def procfile() -> dict[str, str]:
    lines = (ROOT / "deploy/Procfile").read_text().splitlines()
    entries = [line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in entries}


@pytest.fixture
def fleet(tmp_path: Path, private_redis) -> Iterator[int]:  # noqa: F811
    """web, worker and beat from the Procfile, each in its own process group."""
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": private_redis.url(0),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "CELERY_CONCURRENCY": "1",
        "CELERY_BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
        "AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors.log"),
    }
    started = []
    for name in ("web", "worker", "beat"):
        log = (tmp_path / f"{name}.log").open("wb")
        started.append(
            (
                name,
                subprocess.Popen(
                    ["bash", "-c", "exec " + procfile()[name]],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                tmp_path / f"{name}.log",
            )
        )

    def ready() -> bool:
        for name, process, log in started:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    try:
        wait_until(ready, timeout=60, what="the web process's /readyz")
        yield port
    finally:
        for _, process, _ in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_a_report_sent_to_the_procfile_web_process_reaches_its_webhook_through_the_worker(
    receiver: Receiver,  # noqa: F811
    fleet: int,
) -> None:
    client, token = ApiClient.objects.create_client(
        name="classifier", scopes="reports:write,cases:read", throttle_rate="", actor=ACTOR
    )
    _, secret = WebhookEndpoint.objects.register(
        client=client, url=receiver.url, events=["case.opened"], actor=ACTOR
    )
    subject = person(30)
    body = json.dumps(api_report_body(subject.pk))
    conn = http.client.HTTPConnection("127.0.0.1", fleet, timeout=10)
    conn.request(
        "POST",
        "/api/v1/reports/",
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": "procfile-test-report-1",
        },
    )
    response = conn.getresponse()
    assert response.status == 201, response.read()[:500]
    wait_until(lambda: receiver.requests, timeout=60, what="the webhook delivery")
    headers, payload = receiver.requests[0]
    assert json.loads(payload)["type"] == "case.opened"
    assert webhooks.verify_signature(
        secret,
        timestamp=headers["X-Safety-Portal-Timestamp"],
        signature=headers["X-Safety-Portal-Signature"],
        body=payload,
        now=clock.now(),
    )
