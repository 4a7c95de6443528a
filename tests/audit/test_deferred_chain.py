"""The deferred chain (issue 13, D23): audited writes insert their entries without the chain-head
lock; the chainer links committed entries below the horizon in (txid, id) order; the result is
the same gap-free chain `verify_audit_log` checks, with the unlinked tail reported."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from safety_portal.core import audit
from safety_portal.core.audit import chain, chainer
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.audit.pending import Pending

from .conftest import as_superuser_bypassing_triggers, verify, write_entries

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the deferred chain: PostgreSQL"),
]
ACTOR = SystemActor("tests.deferred")


@pytest.fixture(autouse=True)
def deferred(settings) -> None:
    settings.AUDIT_CHAIN_DEFERRED = True


def _chain_lock_held_by_me() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND pid = pg_backend_pid()",
            [chain._ADVISORY_LOCK_KEY],
        )
        return cursor.fetchone()[0] > 0


def test_an_audited_write_inserts_its_entry_without_taking_the_chain_lock() -> None:
    with transaction.atomic():
        entry = audit.record(actor=ACTOR, action="tests.deferred.written", after={"n": 1})
        assert not _chain_lock_held_by_me()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (None, None, None)
    assert stored.txid is not None


def test_the_chainer_links_committed_entries_into_a_chain_that_verifies() -> None:
    write_entries(3)
    with transaction.atomic():
        audit.record_many(
            actor=ACTOR,
            action="tests.deferred.batch",
            entries=[Pending(target_type="t", target_id=str(n)) for n in range(4)],
        )
    before = verify("--anchors", "none")
    assert before.code == 0
    assert "0 entries" in before.out
    assert "7 newer entries not linked yet" in before.out

    result = chainer.link_committed()

    assert (result.linked, result.head_seq, result.waiting) == (7, 7, 0)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 8)
    )
    after = verify()
    assert after.code == 0, after.err
    assert "7 entries" in after.out
    assert "not linked" not in after.out
    assert chainer.link_committed().linked == 0  # running again links nothing twice


def test_the_chainer_waits_for_a_writer_that_stays_open_and_links_it_first() -> None:
    """A slow writer takes its transaction id, stays open for seconds while a fast writer
    commits, then writes and commits. The chainer run in between links nothing (the fast entry
    is not final yet); once the slow writer is done, the slow entry is linked before the fast."""
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        from django.db import connection as own

        try:
            with transaction.atomic():
                with own.cursor() as cursor:
                    cursor.execute("SELECT pg_current_xact_id()")
                started.set()
                release.wait(10)
                with own.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(1)")
                audit.record(actor=ACTOR, action="tests.deferred.slow")
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(10)
    write_entries(1, action="tests.deferred.fast")

    while_open = chainer.link_committed()
    assert (while_open.linked, while_open.waiting) == (0, 1)

    release.set()
    thread.join(20)
    assert not errors, errors
    done = chainer.link_committed()
    assert done.linked == 2
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "tests.deferred.slow",
        "tests.deferred.fast",
    ]
    assert verify("--anchors", "none").code == 0


def test_writers_in_parallel_never_wait_for_each_other_and_leave_one_chain() -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        from django.db import connection as own

        try:
            write_entries(20, actor=SystemActor(f"tests.{name}"))
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    linked = 0
    while any(t.is_alive() for t in threads):
        linked += chainer.link_committed(batch=7).linked  # a chainer running alongside
    for t in threads:
        t.join()
    linked += chainer.link_committed().linked
    assert not errors, errors
    assert linked == 80
    assert verify("--anchors", "none").code == 0


def test_a_linked_entry_or_any_other_column_stays_refused_by_the_database() -> None:
    [entry] = write_entries(1)
    # Before linking: changing content, or setting only part of the chain fields, is refused.
    for sql, params in [
        ("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk]),
        ("UPDATE audit_auditentry SET seq = 1 WHERE id = %s", [entry.pk]),
        (
            "UPDATE audit_auditentry SET seq = 1, prev_hash = 'p', hash = 'h', reason = 'x' "
            "WHERE id = %s",
            [entry.pk],
        ),
    ]:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    chainer.link_committed()
    # After linking: the chain fields are set once and never again.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET hash = 'h' WHERE id = %s", [entry.pk])
    assert verify("--anchors", "none").code == 0


def test_an_entry_left_unlinked_past_the_threshold_is_reported_late_and_logged(
    settings, caplog
) -> None:
    settings.AUDIT_CHAIN_LAG_ALERT = 60
    write_entries(1)
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=5)):
        result = verify("--anchors", "none")
    assert result.code == 0
    assert "LATE" in result.out
    assert any("audit chain lag" in r.getMessage() for r in caplog.records)


def test_the_command_links_and_reports_the_head() -> None:
    write_entries(2)
    out = io.StringIO()
    call_command("link_audit_chain", stdout=out)
    assert "linked 2 audit entries; chain head #2." in out.getvalue()


def _deferred_entries_linked(count: int) -> None:
    """`count` entries written by the deferred writer (each its own committed transaction), with
    a writer that stayed open across the others in the middle, then linked by the chainer."""
    write_entries(2)
    opened, others_done = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                audit.record(actor=ACTOR, action="tests.deferred.slow", after={"slow": True})
                opened.set()
                others_done.wait(10)
        finally:
            connection.close()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    opened.wait(10)
    write_entries(count - 3)
    assert chainer.link_committed().waiting >= 1  # the open writer holds the horizon back
    others_done.set()
    slow.join()
    chainer.link_committed()
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 0
    assert verify("--anchors", "none").code == 0


def _superuser(sql: str, params: list[object]) -> None:
    with transaction.atomic(), as_superuser_bypassing_triggers() as cursor:
        cursor.execute(sql, params)


TAMPERING = {
    "changed": (
        lambda: _superuser(
            "UPDATE audit_auditentry SET reason = 'nothing happened' WHERE seq = 3", []
        ),
        "entry #3",
        "content altered",
    ),
    "deleted": (
        lambda: _superuser("DELETE FROM audit_auditentry WHERE seq = 3", []),
        "entry #4",
        "sequence gap: expected #3",
    ),
    "reordered": (
        lambda: _superuser(
            "UPDATE audit_auditentry SET seq = -1 WHERE seq = 2; "
            "UPDATE audit_auditentry SET seq = 2 WHERE seq = 3; "
            "UPDATE audit_auditentry SET seq = 3 WHERE seq = -1",
            [],
        ),
        "entry #2",
        "",
    ),
    "inserted": (
        lambda: _superuser(
            "INSERT INTO audit_auditentry (seq, created_at, actor_kind, actor_id, actor_label, "
            "action, target_type, target_id, target_label, reason, request_id, prev_hash, hash) "
            "SELECT max(seq) + 1, now(), 'system', 'x', 'x', 'tests.forged', '', '', '', '', '', "
            "(SELECT hash FROM audit_auditentry WHERE seq = 4), repeat('0', 64) "
            "FROM audit_auditentry",
            [],
        ),
        "entry #6",
        "",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_with_entries_the_chainer_linked_is_detected(kind: str) -> None:
    """The deferred tail, once linked, is the same chain as the inline writer's: a changed,
    deleted, reordered or inserted entry is named by verify_audit_log."""
    _deferred_entries_linked(5)
    tamper, where, what = TAMPERING[kind]

    tamper()
    verdict = verify("--anchors", "none")

    assert verdict.code == 1
    assert where in verdict.err
    assert what in verdict.err
