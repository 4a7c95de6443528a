"""Concurrent writers never fork the chain (issue 2): threads and processes append at once, each
with its own connection, and the result is one gap-free chain that verifies. Both writers: the
inline one (D3) links under the chain-head lock, the deferred one (D23, the default) only inserts
and the chainer links after the commits."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from django.db import connection, transaction

from safety_portal.core import audit
from safety_portal.core.audit import chain, chainer
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry

from . import _appender
from .conftest import verify

THREADS = 3
PROCESSES = 3
PER_WRITER = 25


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _thread_writer(name: str, go: threading.Event, errors: list[BaseException]) -> None:
    from django.db import connection as thread_connection

    actor = SystemActor(f"tests.{name}")
    try:
        go.wait(30)
        for n in range(PER_WRITER):
            with transaction.atomic():
                audit.record(actor=actor, action="tests.concurrent.appended", after={"n": n})
                with thread_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.001)")
    except BaseException as exc:  # reported to the test, which fails on it
        errors.append(exc)
    finally:
        thread_connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("deferred", [False, True], ids=["inline", "deferred"])
def test_threads_and_processes_appending_at_once_leave_one_gap_free_chain(
    deferred: bool, settings
) -> None:
    settings.AUDIT_CHAIN_DEFERRED = deferred
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter and Django set-up each
    go = spawn.Event()
    readies = [spawn.Event() for _ in range(PROCESSES)]
    processes = [
        spawn.Process(
            target=_appender.append_entries,
            args=(_database_url(), f"process{i}", PER_WRITER, readies[i], go, deferred),
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    thread_go = threading.Event()
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_thread_writer, args=(f"thread{i}", thread_go, errors))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for ready in readies:
        assert ready.wait(60), "a writer process did not start"

    go.set()
    thread_go.set()
    for thread in threads:
        thread.join(60)
    for process in processes:
        process.join(60)

    assert errors == []
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    total = (THREADS + PROCESSES) * PER_WRITER
    if deferred:
        assert AuditEntry.objects.filter(seq__isnull=True).count() == total
        assert chainer.link_committed().linked == total
    rows = list(AuditEntry.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert [seq for seq, _, _ in rows] == list(range(1, total + 1))
    links = [prev for _, prev, _ in rows]
    assert links == [chain.GENESIS] + [h for _, _, h in rows[:-1]]  # one line, no fork
    per_writer = AuditEntry.objects.values_list("actor_id", flat=True)
    assert sorted(set(per_writer)) == sorted(
        [f"tests.thread{i}" for i in range(THREADS)]
        + [f"tests.process{i}" for i in range(PROCESSES)]
    )
    verdict = verify("--anchors", "none")
    assert verdict.code == 0, verdict.err
    assert f"{total} entries" in verdict.out
