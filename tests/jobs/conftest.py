"""Fixtures for the background-job tests: a private Redis, broker switching, real worker processes.

The machine's Redis (port 6379) is shared with other test runs and is never stopped here. Tests that
need a broker outage, or a short visibility timeout, start their own `redis-server` on a free port
and stop or restart it at will; the test process and its worker processes use it as their broker.
Counters that tasks increment (to prove "exactly once") live in the shared Redis, database 9, under
a key prefix unique to the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.db import connection

from safety_portal.celery import app as celery_app
from safety_portal.core.outbox import dispatch

ROOT = Path(__file__).resolve().parents[2]
COUNTER_REDIS_URL = "redis://127.0.0.1:6379/9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class PrivateRedis:
    """A redis-server of our own: no persistence, its own port, stopped and started by the test."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), timeout=10, what=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory=tmp_path)
    server.start()
    yield server
    server.stop()


def use_broker(url: str) -> None:
    """Point this process's Celery app at another broker, dropping pooled connections."""
    celery_app.conf.broker_url = url
    # Close every pooled connection and empty kombu's pool registries (they are keyed by URL and
    # would hand back a closed pool), then let the app build new pools on its next publish.
    kombu.pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    dispatch.reset_broker_pause()


@pytest.fixture
def broker_switch() -> Iterator[Callable[[str], None]]:
    """`switch(url)` re-points the broker for this test; the original comes back afterwards."""
    original = celery_app.conf.broker_url
    yield use_broker
    use_broker(original)


@pytest.fixture
def dead_broker_url() -> str:
    """A port nothing listens on (connection refused at once, like a stopped Redis)."""
    return f"redis://127.0.0.1:{free_port()}/0"


@dataclass
class Counters:
    """Per-test counters in the shared Redis (db 9) that test tasks increment."""

    prefix: str
    client: redis.Redis

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def get(self, name: str) -> int:
        return int(self.client.get(self.key(name)) or 0)


@pytest.fixture
def counters() -> Iterator[Counters]:
    client = redis.Redis.from_url(COUNTER_REDIS_URL)
    found = Counters(prefix=f"sp-jobs-test:{uuid.uuid4().hex}", client=client)
    yield found
    keys = list(client.scan_iter(f"{found.prefix}:*"))
    if keys:
        client.delete(*keys)


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
        f"/{db['NAME']}"
    )


@dataclass
class WorkerProcess:
    """`celery worker` in its own process group (so SIGKILL takes its pool children too)."""

    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the main process and its pool children: no shutdown, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """`start_worker(broker_url)` runs a real worker against the test database and that broker.

    The visibility timeout is 5 s and the restore sweep runs every second, so a message whose
    worker died is delivered again within seconds instead of an hour.
    """
    started: list[WorkerProcess] = []

    def start(broker_url: str, *, concurrency: int = 1) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "CELERY_RESTORE_INTERVAL": "1",
            "DEBUG": "true",
            "LOG_LEVEL": "INFO",
            "AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors.log"),
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "safety_portal",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--include=tests.jobs.worker_tasks",
            "--loglevel=INFO",
            f"--hostname=jobs-test-{uuid.uuid4().hex[:8]}@%h",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(process=process, log=log)
        started.append(worker)
        try:
            wait_until(
                lambda: " ready." in worker.log_text() or process.poll() is not None,
                timeout=60,
                what="the Celery worker to be ready",
            )
        except AssertionError:
            worker.kill()
            raise AssertionError("worker did not start:\n" + worker.log_text()[-3000:]) from None
        if process.poll() is not None:
            raise AssertionError("worker exited at start:\n" + worker.log_text()[-3000:])
        return worker

    yield start
    for worker in started:
        worker.stop()
