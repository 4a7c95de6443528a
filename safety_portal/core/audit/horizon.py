"""The committed horizon: which audit entries can be linked into the chain without ever having to
insert an earlier one later (issue 13; the argument is docs/decisions.md D23).

Each entry records the id of the transaction that wrote it (`txid`, PostgreSQL's 64-bit
`pg_current_xact_id()`, set by the column's default). The chain's order is (`txid`, `id`).
PostgreSQL hands out transaction ids in increasing order, and a snapshot's `xmin` is the oldest
transaction still running: every transaction below it has finished, committed or rolled back, and
every transaction that has not finished, or has not started writing yet, has an id at or above it.
So the entries below the horizon are final: no transaction can still add one there. A chainer
that links only entries below the horizon, in (`txid`, `id`) order, never has to go back, however
long a writer keeps its transaction open; it just waits for it.

On SQLite (the embedded demo) writers take the database lock in turn (`transaction_mode =
IMMEDIATE`), so every committed entry is final and `txid` is empty; the order is `id`.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BigIntegerField, Func


class CurrentTransactionId(Func):
    """The column default of `AuditEntry.txid`: the writing transaction's 64-bit id."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        return "NULL", []


def committed_horizon() -> int | None:
    """The oldest transaction id that may still add entries; None where every committed entry is
    final (SQLite). Read in its own statement: under READ COMMITTED each statement has a fresh
    snapshot, so the horizon is at least as new as anything the caller read before."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return int(cursor.fetchone()[0])
