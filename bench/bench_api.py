"""Report intake over HTTP: `POST /api/v1/reports/` under gunicorn against a trivial DRF endpoint.

Issue 6, issue 13: the API's report intake, served by gunicorn on 127.0.0.1 with
deploy/gunicorn.conf.py (2 sync workers by default, `--workers N`), driven by a bounded load
generator (a small threaded keep-alive-less HTTP client of ours: each thread sends its prepared
requests one after another, so concurrency is exactly `--concurrency`, by default 2 per worker).
Printed, each with the trivial endpoint `GET /api/v1/whoami/` measured in the same rounds (the
same authentication, scope check, throttle and JSON rendering, and nothing else):

- **the intake, `Prefer: respond-async`** (D38): the body validated, then one INSERT of the
  receipt (its own idempotency record), committed; 202. Target (issue 13): at least 0.6x the
  trivial endpoint's throughput, zero errors.
- **the intake, synchronous** (D27): the report filed in the request; the open case on the
  subject locked and read with the subject's birthdate, "reported before?", the reporter's
  standing and the report's id (one statement); the minors check and the priority re-assessment
  in Python (`safety_portal.rules`); one statement that writes the report, the case's new
  counters, the Idempotency-Key record and the audit entry; the commit. Printed for comparison.
- **one filer's rate**: the receipts of the run filed afterwards in this process by
  `receiving.file_waiting` (the bench runs no Celery worker; the server's kicks are purged from
  the bench broker), against the synchronous intake's rate over HTTP.

Honesty notes: the load generator runs on the same two cores as the server and PostgreSQL, so
absolute figures are low and every endpoint pays the same tax; the ratio is the figure to read.
Bounded: `--requests` per endpoint (default 3000) and `--seconds` (default 60) per endpoint,
whichever comes first, sent in five alternating rounds (trivial, synchronous, respond-async,
trivial, ...) so that the background load of this shared machine falls on all alike; each round's
ratio is printed with the median and the spread. A warm-up of 100 requests per endpoint is not
measured. The data set (the subjects reported) is 200 app users, created once and cached
(`bench_dataset`). Options: `--requests N`, `--seconds S`, `--workers W`, `--concurrency C`,
`--threads T` (gunicorn threads per worker; 1 = the sync worker, the default), `--port P`
(default: a free one). The server inherits the caller's environment, so database options such as
`DB_SERVER_SIDE_BINDING=true DB_PREPARE_THRESHOLD=5` set on the command line apply to it; the
figures' note names the options in force.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from tqdm import tqdm

from accounts.models import User
from bench.harness import Figure, dataset_ready, mark_dataset, percentile_ms
from safety_portal.core.api.models import ApiClient
from safety_portal.core.audit.actors import SystemActor
from tests.factories.accounts import birthdate_for_age

ROOT = Path(__file__).resolve().parent.parent
DATASET = "api_subjects_v1"
ACTOR = SystemActor("bench.api")
CLIENT_NAME = "bench-api"

ROUNDS = 5
# Two sync workers by default, as every earlier run: on this machine the load generator and
# PostgreSQL share the server's two cores, and the deployed size (2 per core plus one,
# deploy/gunicorn.conf.py) served both endpoints fewer requests a second (`--workers 5`).
WORKERS = 2
TARGET = "≥ 0.60x"  # issue 13: intake throughput against the trivial authenticated endpoint
Request = tuple[str, str, bytes | None, dict[str, str]]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_api")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="gunicorn workers (the rest of deploy/gunicorn.conf.py applies as deployed).",
    )
    parser.add_argument(
        "--concurrency", type=int, default=0, help="Client threads (default: 2 per worker)."
    )
    parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gunicorn threads per worker (1: the sync worker; more: gthread).",
    )
    args, _ = parser.parse_known_args(argv)
    args.concurrency = args.concurrency or 2 * args.workers

    subjects = _subjects()
    token = _client_token()
    args.port = args.port or _free_port()
    server = _start_gunicorn(args.port, args.workers, args.threads)
    try:
        _wait_ready(server, args.port, token)
        run_id = uuid.uuid4().hex[:12]
        trivial = _trivial(token)
        sync = _intake(token, subjects, run_id, respond_async=False)
        deferred = _intake(token, subjects, run_id, respond_async=True)
        _drive(args.port, trivial, 100, 30, args.concurrency, Phase("warm-up"))
        _drive(args.port, sync("warm"), 100, 30, args.concurrency, Phase("warm-up"))
        _drive(args.port, deferred("warm"), 100, 30, args.concurrency, Phase("warm-up"))
        # Alternate the endpoints in rounds, so that background load on this shared machine falls
        # on all of them alike.
        base, work, early = Phase("whoami"), Phase("reports"), Phase("reports, respond-async")
        per_round = max(1, args.requests // ROUNDS)
        ratios: dict[str, list[float]] = {work.name: [], early.name: []}
        for r in range(ROUNDS):
            rounds = {
                base.name: (trivial, Phase(base.name)),
                work.name: (sync(f"run{r}"), Phase(work.name)),
                early.name: (deferred(f"run{r}"), Phase(early.name)),
            }
            for make, phase in rounds.values():
                _drive(args.port, make, per_round, args.seconds / ROUNDS, args.concurrency, phase)
            base_rps = rounds[base.name][1].rps
            for name in ratios:
                ratios[name].append(rounds[name][1].rps / base_rps if base_rps else 0.0)
            for total in (base, work, early):
                part = rounds[total.name][1]
                total.latencies += part.latencies
                total.errors += part.errors
                total.seconds += part.seconds
                for status, n in part.statuses.items():
                    total.statuses[status] = total.statuses.get(status, 0) + n
    finally:
        _stop(server)
    for phase in (base, work, early):
        print(
            f"  {phase.name}: {phase.count} requests in {phase.seconds:.1f} s, "
            f"statuses {dict(sorted(phase.statuses.items()))}, errors {phase.errors}",
            file=sys.stderr,
        )
    drained, drain_seconds = _drain_receipts()
    kind = "sync" if args.threads == 1 else f"gthread x{args.threads}"
    note = (
        f"gunicorn {args.workers} {kind} workers (deploy/gunicorn.conf.py), "
        f"{args.concurrency} client threads, loopback; "
        f"db options: {_db_options()}"
    )

    def per_round(name: str) -> str:
        values = ratios[name]
        return (
            f"ratio per round median {statistics.median(values):.2f}x, "
            f"min-max {min(values):.2f}-{max(values):.2f}x over {ROUNDS} rounds"
        )

    return [
        Figure(
            "api",
            "POST reports/ respond-async throughput",
            early.rps,
            "req/s",
            baseline=base.rps,
            target=TARGET,
            note=(
                f"baseline GET whoami/, alternated; {per_round(early.name)}; one INSERT, filed "
                f"behind the response (D38); {note}"
            ),
        ),
        Figure(
            "api",
            "POST reports/ synchronous throughput",
            work.rps,
            "req/s",
            baseline=base.rps,
            note=(
                f"filed in the request (D27); {per_round(work.name)}; audit chain {_chain_mode()}"
            ),
        ),
        Figure(
            "api",
            "receipts filed by one filer",
            drained / drain_seconds if drain_seconds else 0.0,
            "reports/s",
            baseline=work.rps,
            note=(
                f"{drained} receipts of the run, filed in process by file_waiting after the HTTP "
                "rounds; baseline the synchronous intake over HTTP (both workers)"
            ),
        ),
        Figure(
            "api",
            "POST reports/ respond-async median latency",
            percentile_ms(early.latencies, 50),
            "ms",
            baseline=percentile_ms(base.latencies, 50),
            note=f"{early.count} / {base.count} requests",
        ),
        Figure(
            "api",
            "POST reports/ respond-async p99 latency",
            percentile_ms(early.latencies, 99),
            "ms",
            baseline=percentile_ms(base.latencies, 99),
        ),
        Figure(
            "api",
            "POST reports/ synchronous median latency",
            percentile_ms(work.latencies, 50),
            "ms",
            baseline=percentile_ms(base.latencies, 50),
            note=f"{work.count} / {base.count} requests",
        ),
        Figure(
            "api",
            "POST reports/ errors",
            float(work.errors + early.errors),
            "requests",
            baseline=float(base.errors),
            target="0",
            note="any status but 201 / 202 (200 for whoami), or a connection error; both ways",
        ),
    ]


def _drain_receipts() -> tuple[int, float]:
    """File what the run received (the server's kicks went to a broker no worker reads here), in
    this process, timed: one filer's rate. Then empty the bench broker of those kicks."""
    from moderation.actions import receiving
    from moderation.models import ReportReceipt

    waiting = ReportReceipt.objects.waiting().count()
    start = time.perf_counter()
    filed = 0
    with tqdm(total=waiting, desc="filing receipts", unit="report", file=sys.stderr) as bar:
        while True:
            run = receiving.file_waiting(limit=500)
            filed += run.done
            bar.update(run.done)
            if run.failed:
                raise RuntimeError(f"receipts failed to file: {run.failed[:5]}")
            if not run.more:
                break
    seconds = time.perf_counter() - start
    if settings.REDIS_URL:
        from safety_portal.celery import app

        app.control.purge()
    return filed, seconds


# ---- data ------------------------------------------------------------------------------------------


def _subjects() -> list[int]:
    """200 app users to report, created once through the real door and cached."""
    if not dataset_ready(DATASET):
        for i in range(200):
            User.objects.create_app_user(
                actor=ACTOR,
                username=f"bench_api_{i:03d}",
                birthdate=birthdate_for_age(13 + i % 50),
                country="GB",
                external_id=f"bench-api-{i:03d}",
            )
        mark_dataset(DATASET)
    return list(User.objects.filter(username__startswith="bench_api_").values_list("id", flat=True))


def _client_token() -> str:
    """The bench's API client, with a fresh token each run (only hashes are stored)."""
    client = ApiClient.objects.filter(name=CLIENT_NAME, is_active=True).first()
    if client is None:
        client, token = ApiClient.objects.create_client(
            name=CLIENT_NAME,
            scopes=["reports:write"],
            throttle_rate="1000000/min",  # the bench measures work, not the throttle's refusals
            actor=ACTOR,
        )
        return token
    return ApiClient.objects.rotate_token(client, actor=ACTOR, reason="benchmark run")


# ---- requests --------------------------------------------------------------------------------------


def _trivial(token: str) -> Callable[[int], Request]:
    headers = {"Authorization": f"Bearer {token}"}

    def make(i: int) -> Request:
        return "GET", "/api/v1/whoami/", None, headers

    make.expected = 200  # type: ignore[attr-defined]
    return make


def _intake(
    token: str, subjects: list[int], run_id: str, *, respond_async: bool
) -> Callable[[str], Callable]:
    def for_label(label: str) -> Callable[[int], Request]:
        def make(i: int) -> Request:
            body = json.dumps(
                {
                    "subject_type": "user",
                    "subject_id": subjects[i % len(subjects)],
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "keywords": [],
                    "explanation": "Classifier: repeated insults in comments (score 0.93).",
                    "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION",
                }
            ).encode()
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{run_id}-{label}-{i}-{int(respond_async)}",
            }
            if respond_async:
                headers["Prefer"] = "respond-async"
            return "POST", "/api/v1/reports/", body, headers

        make.expected = 202 if respond_async else 201  # type: ignore[attr-defined]
        return make

    return for_label


# ---- the load generator ----------------------------------------------------------------------------


def _drive(
    port: int,
    make: Callable[[int], Request],
    total: int,
    seconds: float,
    concurrency: int,
    phase: Phase,
) -> Phase:
    """Send `total` requests from `concurrency` threads, stopping early after `seconds`. The
    requests (bodies, headers) are built before the clock starts: building them is the client's
    cost, not the server's, and the client shares the server's cores."""
    expected = make.expected  # type: ignore[attr-defined]
    prepared = [make(i) for i in range(total)]
    lock = threading.Lock()
    counter = iter(prepared)
    deadline = time.monotonic() + seconds

    def worker() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        while time.monotonic() < deadline:
            with lock:
                request = next(counter, None)
            if request is None:
                break
            method, path, body, headers = request
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = -1
            finally:
                conn.close()
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
            errors += status != expected
        with lock:
            phase.latencies.extend(latencies)
            phase.errors += errors
            for status, n in statuses.items():
                phase.statuses[status] = phase.statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds += time.perf_counter() - started
    return phase


# ---- the server ------------------------------------------------------------------------------------


def _start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "safety_portal.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DEBUG": "false",  # production settings: no query log, no debug pages
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env["GUNICORN_WORKERS"] = str(workers)
    # No recycling during the measurement: a worker restarted after its max_requests re-imports
    # the project (about a second of CPU) in whichever round it happens to fall.
    env["GUNICORN_MAX_REQUESTS"] = "0"
    env["GUNICORN_THREADS"] = str(threads)
    return subprocess.Popen(
        [
            str(gunicorn),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )


def _db_options() -> str:
    """The database options the server ran with: gunicorn inherits the caller's environment
    (DB_SERVER_SIDE_BINDING, DB_PREPARE_THRESHOLD, ...), so this process's settings are its."""
    options = settings.DATABASES["default"].get("OPTIONS", {})
    shown = {
        name: options[name]
        for name in ("server_side_binding", "prepare_threshold")
        if name in options
    }
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"


def _chain_mode() -> str:
    """Whether the server's audit writes take the chain-head lock (D23): it inherits this setting."""
    return "deferred" if getattr(settings, "AUDIT_CHAIN_DEFERRED", False) else "inline"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(server: subprocess.Popen, port: int, token: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} (port {port} taken?)")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/api/v1/whoami/", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
            raise RuntimeError(f"gunicorn answered {response.status} to whoami/")
        except (ConnectionRefusedError, http.client.RemoteDisconnected):
            time.sleep(0.3)
        finally:
            conn.close()
    raise RuntimeError("gunicorn did not start in time")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
