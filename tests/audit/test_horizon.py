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
