"""Audit log (issue 2): append throughput with the hash chain, and verify speed over 1M entries.

Append: entries/s through `audit.record()` (one entry per transaction, as real changes write
them) with one writer and with 4 and 8 writer processes (each its own connection), against a plain
INSERT of the same rows into an unchained copy of the table (same columns and indexes, no chain)
in the same run. Two writers are measured: "chained" links in the transaction (advisory lock,
head read, hash, insert; D3), "deferred" inserts and leaves the linking to the chainer (D23),
whose rate is printed after. The ratio is that writer's throughput ÷ plain throughput.

Verify: `verify_audit_log` over 1,000,000 entries, run as its own process so that its peak memory
can be read, against a plain streaming read of the same rows. The chain is computed in Python and
COPY'd in once (cached with `bench.harness.dataset_ready`); the append runs add entries after it,
and are trimmed off again at the end of the run so every run verifies the same chain. Trimming
deletes past the triggers with `session_replication_role = replica`, which needs the superuser —
the same power the chain exists to catch; this database is disposable benchmark data.

`--quick` shrinks every size (for development); the default is the issue's size.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.harness import (
    Figure,
    dataset_ready,
    mark_dataset,
    partitions_for_the_last,
    vacuum_analyze,
)

BENCH = "audit"
WRITER_COUNTS = (4, 8)
PLAIN_TABLE = "bench_audit_plain"


def _columns() -> tuple[str, ...]:
    """The audit table's columns in COPY order: the id, the hashed fields, the hash. Read when
    needed: the writer processes import this module before they set Django up."""
    from safety_portal.core.audit import chain

    return ("id", *chain.HASHED_FIELDS, "hash")


def _sizes(argv: list[str]) -> dict[str, int]:
    if "--quick" in argv:
        return {"verify": 20_000, "single": 150, "per_writer": 50}
    return {"verify": 1_000_000, "single": 1_000, "per_writer": 400}


# --- appending ------------------------------------------------------------------------------------


def _entry_kwargs(writer: int, n: int) -> dict[str, Any]:
    return {
        "action": "accounts.status.changed",
        "target_type": "accounts.user",
        "target_id": str(writer * 1_000_000 + n),
        "target_label": f"user{writer:02d}{n:06d}",
        "reason": "Repeated harassment reports upheld (case review)",
        "before": {"status": "active"},
        "after": {"status": "restricted", "feature": "direct_messages", "days": 7},
    }


def _append_chained(writer: int, count: int) -> None:
    from django.db import transaction

    from safety_portal.core import audit
    from safety_portal.core.audit.actors import SystemActor

    actor = SystemActor(f"bench.writer{writer}")
    for n in range(count):
        with transaction.atomic():
            audit.record(actor=actor, **_entry_kwargs(writer, n))


def _append_plain(writer: int, count: int) -> None:
    """The same row, the same one-row transaction, without the lock, head read or hash."""
    from django.db import connection, transaction

    from safety_portal.core import clock

    columns = _columns()[1:]
    sql = (
        f"INSERT INTO {PLAIN_TABLE} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    for n in range(count):
        kw = _entry_kwargs(writer, n)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    writer * 1_000_000_000 + n + 1,
                    clock.now(),
                    "system",
                    f"bench.writer{writer}",
                    f"bench.writer{writer}",
                    kw["action"],
                    kw["target_type"],
                    kw["target_id"],
                    kw["target_label"],
                    kw["reason"],
                    json.dumps(kw["before"]),
                    json.dumps(kw["after"]),
                    "",
                    None,
                    "0" * 64,
                    uuid.uuid4().hex * 2,
                ],
            )


ROUNDS = 3
KINDS = ("chained", "deferred", "plain")
PHASES = [kind for _ in range(ROUNDS) for kind in KINDS]


def _run_phase(kind: str, writer: int, round_no: int, count: int) -> None:
    from django.test.utils import override_settings

    # Distinct target ids per round, so plain-table rows never collide on their unique columns.
    who = writer + 100 * round_no
    if kind == "plain":
        _append_plain(who, count)
        return
    # "deferred": the writer inserts without the chain-head lock; the chainer links later (D23).
    with override_settings(AUDIT_CHAIN_DEFERRED=kind == "deferred"):
        _append_chained(who, count)


def _writer_process(writer: int, count: int, ready: Any, barrier: Any, out: Any) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # no query log: measure what production runs
    connection.ensure_connection()
    ready.set()
    for index, kind in enumerate(PHASES):
        barrier.wait(120)  # every writer starts each phase together
        started = time.monotonic()
        _run_phase(kind, writer, index // len(KINDS), count)
        out.put((index, started, time.monotonic()))
    connection.close()


def _median_rates(walls: dict[int, float], entries: int) -> dict[str, list[float]]:
    """Entries/s of each phase, by kind (chained, deferred, plain), in run order."""
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for index in sorted(walls):
        rates[PHASES[index]].append(entries / walls[index])
    return rates


def _concurrent_rates(per_writer: int, writers: int) -> dict[str, list[float]]:
    from django.db import connections

    connections.close_all()  # the children open their own
    spawn = multiprocessing.get_context("spawn")
    barrier, out = spawn.Barrier(writers), spawn.Queue()
    readies = [spawn.Event() for _ in range(writers)]
    procs = [
        spawn.Process(target=_writer_process, args=(w, per_writer, readies[w], barrier, out))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    for ready in readies:
        if not ready.wait(120):
            raise RuntimeError("a writer process did not start")
    spans: dict[int, list[tuple[float, float]]] = {}
    for _ in range(writers * len(PHASES)):
        index, started, ended = out.get(timeout=600)
        spans.setdefault(index, []).append((started, ended))
    for proc in procs:
        proc.join(60)
        if proc.exitcode != 0:
            raise RuntimeError(f"a writer process failed (exit {proc.exitcode})")
    walls = {
        index: max(e for _, e in pairs) - min(s for s, _ in pairs) for index, pairs in spans.items()
    }
    return _median_rates(walls, writers * per_writer)


def _single_rates(count: int) -> dict[str, list[float]]:
    from django.test.utils import override_settings

    walls: dict[int, float] = {}
    with override_settings(DEBUG=False):  # no query log: measure what production runs
        for index, kind in enumerate(PHASES):
            started = time.perf_counter()
            _run_phase(kind, 0, index // len(KINDS), count)
            walls[index] = time.perf_counter() - started
    return _median_rates(walls, count)


def _spread(values: list[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}"


def _reset_plain_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PLAIN_TABLE} (LIKE audit_auditentry INCLUDING ALL)"
        )
        cursor.execute(f"TRUNCATE {PLAIN_TABLE}")


# --- the 1M-entry chain ---------------------------------------------------------------------------


def _head() -> tuple[int, str] | None:
    from safety_portal.core.audit.models import AuditEntry

    linked = AuditEntry.objects.filter(seq__isnull=False)
    return linked.order_by("-seq").values_list("seq", "hash").first()


def _twelve_months(target: int) -> tuple[dt.datetime, dt.timedelta]:
    """The first moment and the spacing that spread `target` entries over the last twelve
    months up to now, with those months' partitions created (a no-op where they exist)."""
    from safety_portal.core import clock, partitions
    from safety_portal.core.audit.partitioning import AUDIT_LOG

    partitions_for_the_last(AUDIT_LOG, 11)
    now = clock.now()
    first = partitions.Month.of(now).plus(-11)
    return first.start, (now - first.start) / max(target, 1)


def _build_chain(target: int) -> None:
    """Extend the chain to `target` entries: hashes computed here, rows COPY'd in."""
    from django.db import connection, transaction

    from safety_portal.core.audit import chain

    head = _head()
    first = head[0] + 1 if head else 1
    prev = head[1] if head else chain.GENESIS
    if first > target:
        return
    actions = [
        "accounts.status.changed",
        "accounts.settings.changed",
        "accounts.birthdate.change_requested",
        "moderation.case.decided",
        "moderation.restriction.ended",
    ]
    # Spread over the last twelve months, each with its partition (issue 14.5): the walk, the
    # head read and the list pages then cross twelve partitions, as they would in production.
    base, step = _twelve_months(target)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_auditentry")
        next_id = cursor.fetchone()[0] + 1
    started = time.perf_counter()
    with transaction.atomic():
        raw = connection.connection
        columns = _columns()
        copy_sql = f"COPY audit_auditentry ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for seq in range(first, target + 1):
                user = seq % 50_000
                staff = seq % 40 != 0
                row = SimpleNamespace(
                    seq=seq,
                    created_at=base + step * seq,
                    actor_kind="user" if staff else "system",
                    actor_id=str(seq % 25 + 1) if staff else "task.restriction_expiry",
                    actor_label=f"moderator{seq % 25 + 1:02d}"
                    if staff
                    else "task.restriction_expiry",
                    action=actions[seq % len(actions)],
                    target_type="accounts.user",
                    target_id=str(user),
                    target_label=f"user{user:05d}",
                    reason="Report upheld after review" if staff else "",
                    before={"status": "active"},
                    after={"status": "restricted", "feature": "direct_messages", "days": 7},
                    request_id=uuid.UUID(int=seq).hex if staff else "",
                    ip=f"10.{seq % 250}.{seq % 200}.{seq % 240 + 1}" if staff else None,
                    prev_hash=prev,
                )
                row.hash = chain.compute_hash(chain.entry_payload(row))
                prev = row.hash
                copy.write_row(
                    (
                        next_id + seq - first,
                        *(
                            json.dumps(v) if name in ("before", "after") else v
                            for name, v in ((n, getattr(row, n)) for n in columns[1:])
                        ),
                    )
                )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), "
                "(SELECT max(id) FROM audit_auditentry))"
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")
    print(
        f"   built audit chain #{first}..#{target} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


def _trim_to(seq: int) -> bool:
    """Remove entries after `seq` (benchmark data only; needs the superuser, see the docstring)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return False
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditentry WHERE seq > %s", [seq])
    # Nothing deletes from the audit log in production, so its only dead rows are the chainer's
    # old versions, which autovacuum clears. The trim leaves every run's entries dead in the
    # month's partition, and on a server with autovacuum off (this machine) they piled up to a
    # million dead rows after thirty runs, while the plain table is truncated before each
    # measurement. Vacuumed here so that both sides start clean.
    vacuum_analyze("audit_auditentry")
    return True


_VERIFY_SCRIPT = """
import resource, sys, time
import django
django.setup()
from django.core.management import call_command
if sys.argv[1] == "verify":
    started = time.monotonic()
    call_command("verify_audit_log", "--anchors", "file")
    print("BENCH", time.monotonic() - started, flush=True)
print("RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""


def _child(mode: str, anchor_file: str) -> dict[str, Any]:
    env = {**os.environ, "AUDIT_ANCHOR_FILE": anchor_file, "REDIS_URL": ""}
    result = subprocess.run(
        [sys.executable, "-c", _VERIFY_SCRIPT, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    out: dict[str, Any] = {"code": result.returncode, "stdout": result.stdout, "err": result.stderr}
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            out["seconds"] = float(line.split()[1])
        elif line.startswith("RSS "):
            out["rss_mb"] = int(line.split()[1]) / 1024
    return out


def _read_all_rows() -> float:
    from django.db import transaction

    from safety_portal.core.audit.chain import ROW_FIELDS
    from safety_portal.core.audit.models import AuditEntry

    started = time.perf_counter()
    with transaction.atomic():
        rows = AuditEntry.objects.order_by("seq").values_list(*ROW_FIELDS).iterator(5_000)
        for _ in rows:
            pass
    return time.perf_counter() - started


# --- the run --------------------------------------------------------------------------------------


def run(argv: list[str]) -> list[Figure]:
    from django.test.utils import override_settings

    from safety_portal.core.audit import anchors

    sizes = _sizes(argv)
    n = sizes["verify"]
    figures: list[Figure] = []

    # 1. The chain to verify: exactly n entries (built once, leftovers of a broken run trimmed).
    name = f"audit_chain_{n}"
    head = _head()
    if not dataset_ready(name) or (head[0] if head else 0) < n:
        _build_chain(n)
        mark_dataset(name)
    head = _head()
    if head and head[0] > n and not _trim_to(n):
        print("   cannot trim the chain (not superuser); verifying it whole", file=sys.stderr)
    length = _head()[0]

    # 2. Verify it, in its own process, anchored to a private file (never the real anchors).
    with tempfile.TemporaryDirectory() as tmp:
        anchor_file = str(Path(tmp) / "anchors.log")
        with override_settings(AUDIT_ANCHOR_FILE=anchor_file, REDIS_URL=""):
            anchors.anchor_chain()
        verified = _child("verify", anchor_file)
        baseline_rss = _child("rss", anchor_file).get("rss_mb")
    read_seconds = _read_all_rows()
    if verified["code"] != 0 or "seconds" not in verified:
        figures.append(
            Figure(BENCH, f"verify {length:,} entries", 0, "s", note="FAILED: " + verified["err"])
        )
    else:
        seconds = verified["seconds"]
        figures += [
            Figure(
                BENCH,
                f"verify_audit_log, {length:,} entries",
                seconds,
                "s",
                baseline=read_seconds,
                note="baseline: streaming read of the same rows, no hashing",
            ),
            Figure(BENCH, "verify_audit_log speed", length / seconds, "entries/s"),
            Figure(
                BENCH,
                "verify_audit_log peak memory",
                verified["rss_mb"],
                "MB",
                baseline=baseline_rss,
                note="baseline: the same process after django.setup() only",
            ),
        ]

    # 3. Append throughput, chained (D3) and deferred (D23) against a plain INSERT, 1 writer
    # then 4 and 8 writer processes. The machine may be shared: the three kinds alternate, and
    # each figure is the median of ROUNDS with the spread of the rounds.
    for writers in (1, *WRITER_COUNTS):
        _reset_plain_table()
        if writers == 1:
            rates, size = _single_rates(sizes["single"]), f"{sizes['single']:,}"
        else:
            rates, size = (
                _concurrent_rates(sizes["per_writer"], writers),
                (f"{writers}x{sizes['per_writer']:,}"),
            )
        plain = statistics.median(rates["plain"])
        label = "1 writer" if writers == 1 else f"{writers} writer processes"
        for kind, target in (
            ("chained", ""),
            ("deferred", ">= 0.8x" if writers == 1 else ">= 0.7x"),
        ):
            figures.append(
                Figure(
                    BENCH,
                    f"append via record(), {kind}, {label}",
                    statistics.median(rates[kind]),
                    "entries/s",
                    baseline=plain,
                    target=target,
                    note=f"median of {ROUNDS}x{size} one-entry transactions vs plain INSERT; "
                    f"spread {_spread(rates[kind])} (plain {_spread(rates['plain'])})",
                )
            )
    _reset_plain_table()

    # The chainer links what the deferred writers left (and must, before the trim below).
    from safety_portal.core.audit.chainer import link_committed, unchained_tail

    waiting = unchained_tail().count
    started = time.perf_counter()
    linked = link_committed().linked
    seconds = time.perf_counter() - started
    if linked:
        figures.append(
            Figure(BENCH, "chainer, entries linked per second", linked / seconds, "entries/s",
                   note=f"{linked:,} of {waiting:,} waiting, batches of 5,000")
        )  # fmt: skip

    # 4. Leave exactly the cached chain behind for the next run.
    if not _trim_to(length):
        print("   appended entries stay (not superuser)", file=sys.stderr)
    return figures
