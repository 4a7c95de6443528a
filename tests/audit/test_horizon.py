"""The committed horizon (issue 13, D23): an entry below it is final, so a chainer that links
entries below it in (txid, id) order never has to go back for a writer that committed late."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from safety_portal.core import audit
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.horizon import committed_horizon
from safety_portal.core.audit.models import AuditEntry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="transaction ids: PostgreSQL"),
]
ACTOR = SystemActor("tests.horizon")


def _record(action: str) -> AuditEntry:
    with transaction.atomic():
        return audit.record(actor=ACTOR, action=action)


def test_each_entry_carries_the_id_of_the_transaction_that_wrote_it() -> None:
    with transaction.atomic():
        first = audit.record(actor=ACTOR, action="tests.horizon.one")
        second = audit.record(actor=ACTOR, action="tests.horizon.two")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            own = cursor.fetchone()[0]
    later = _record("tests.horizon.three")
    stored = dict(AuditEntry.objects.values_list("id", "txid"))
    assert stored[first.id] == stored[second.id] == own
    assert stored[later.id] > own


def test_entries_of_finished_transactions_lie_below_the_horizon() -> None:
    entry = _record("tests.horizon.done")
    assert AuditEntry.objects.get(pk=entry.pk).txid < committed_horizon()


def test_a_writer_that_stays_open_for_seconds_holds_the_horizon_below_everything_after_it() -> None:
    """The slow writer takes its transaction id first, keeps its transaction open for seconds
    while a fast writer commits, then writes its entry and commits. While it is open, the horizon
    stays at its id, so the fast writer's entry (a larger id) is not yet final; the slow entry,
    committed last, still sorts before the fast one in (txid, id) order."""
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    slow_entry: dict[str, int] = {}
    errors: list[BaseException] = []

    def slow_writer() -> None:
        from django.db import connection as own

        try:
            with transaction.atomic():
                with own.cursor() as cursor:
                    cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                    slow_entry["txid"] = cursor.fetchone()[0]
                started.set()
                release.wait(10)
                with own.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(1)")
                slow_entry["id"] = audit.record(actor=ACTOR, action="tests.horizon.slow").id
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            done.set()
            own.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(10)
    fast = _record("tests.horizon.fast")
    fast_txid = AuditEntry.objects.get(pk=fast.pk).txid
    horizon_while_open = committed_horizon()
    release.set()
    thread.join(20)
    assert not errors, errors
    assert horizon_while_open <= slow_entry["txid"] < fast_txid
    assert not fast_txid < horizon_while_open  # the fast entry was not yet final

    slow = AuditEntry.objects.get(pk=slow_entry["id"])
    assert slow.id > fast.id  # it committed, and took its id, after the fast writer
    assert slow.txid == slow_entry["txid"]
    order = list(
        AuditEntry.objects.filter(pk__in=[slow.pk, fast.pk])
        .order_by("txid", "id")
        .values_list("action", flat=True)
    )
    assert order == ["tests.horizon.slow", "tests.horizon.fast"]
    assert max(slow.txid, fast_txid) < committed_horizon()  # both final once both are done


def test_entries_written_in_one_copy_batch_carry_their_transaction_id() -> None:
    from safety_portal.core.audit.pending import Pending

    with transaction.atomic():
        audit.record_many(
            actor=ACTOR,
            action="tests.horizon.batch",
            entries=[Pending(target_type="t", target_id=str(n)) for n in range(3)],
        )
    txids = set(
        AuditEntry.objects.filter(action="tests.horizon.batch").values_list("txid", flat=True)
    )
    assert len(txids) == 1
    assert None not in txids


def _other_database_transaction() -> tuple[object, object]:
    """A connection to another database on the same server with a transaction that has its id,
    left open: the kind of long COPY or report a shared server runs beside the application."""
    import psycopg

    settings_dict = connection.settings_dict
    params = {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": settings_dict["PORT"] or 5432,
        "user": settings_dict["USER"] or "postgres",
        "password": settings_dict["PASSWORD"] or None,
    }
    name = f"{settings_dict['NAME']}_horizon_other"
    admin = psycopg.connect(dbname="postgres", autocommit=True, **params)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    other = psycopg.connect(dbname=name, **params)
    other.execute("SELECT pg_current_xact_id()")  # takes an id and keeps the transaction open
    return admin, other


def test_a_transaction_open_in_another_database_does_not_hold_the_horizon() -> None:
    admin, other = _other_database_transaction()
    try:
        entry = _record("tests.horizon.beside_another_database")
        assert AuditEntry.objects.get(pk=entry.pk).txid < committed_horizon()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            server_wide = cursor.fetchone()[0]
        assert server_wide <= AuditEntry.objects.get(pk=entry.pk).txid  # the server's xmin would
    finally:
        name = other.info.dbname
        other.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_a_transaction_open_in_this_database_holds_the_horizon_even_before_it_writes() -> None:
    from django.db import connections

    held = connections.create_connection("default")
    try:
        held.set_autocommit(False)
        with held.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            held_id = cursor.fetchone()[0]
        after = _record("tests.horizon.after_the_held_one")
        assert committed_horizon() <= held_id < AuditEntry.objects.get(pk=after.pk).txid
    finally:
        held.rollback()
        held.close()


def test_a_role_that_cannot_see_other_sessions_falls_back_to_the_server_wide_horizon() -> None:
    """Without pg_read_all_stats other roles' transaction ids are hidden, so narrowing to this
    database could miss a writer: the server-wide xmin is used instead, here held by a
    transaction in another database that the narrowed horizon would have passed."""
    admin, other = _other_database_transaction()
    other_id = other.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
    try:
        _record("tests.horizon.after_the_other_database")  # a later transaction completes
        assert committed_horizon() > other_id  # narrowed: the other database does not count
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE ROLE horizon_reader_without_stats NOLOGIN")
            cursor.execute("SET LOCAL ROLE horizon_reader_without_stats")
            assert committed_horizon() <= other_id
            transaction.set_rollback(True)  # the role goes with the transaction
    finally:
        name = other.info.dbname
        other.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
