"""The committed horizon: which audit entries can be linked into the chain without ever having to
insert an earlier one later (issue 13; the argument is docs/decisions.md D23).

Each entry records the id of the transaction that wrote it (`txid`, PostgreSQL's 64-bit
`pg_current_xact_id()`, set by the column's default). The chain's order is (`txid`, `id`).
PostgreSQL hands out transaction ids in increasing order, and the horizon is the oldest transaction
still running (a snapshot's `xmin`, narrowed to this database where sessions are visible; see
`committed_horizon`): every transaction below it has finished, committed or rolled back, and every
transaction that has not finished, or has not started writing yet, has an id at or above it.
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
    final (SQLite). Read in statements of its own: under READ COMMITTED each statement has a fresh
    snapshot, so the horizon is at least as new as anything the caller read before.

    A snapshot's `xmin` is the oldest transaction running anywhere on the server, in any database:
    a two-minute COPY into another database, or a long report elsewhere, would hold every entry
    back. Only transactions connected to this database can write entries, so where this role can
    see every session (superuser, or a member of `pg_read_all_stats`) the horizon is the oldest
    transaction running in this database instead (`_horizon_in_this_database`); otherwise it is the
    server-wide `xmin`, which is always safe.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "pg_snapshot_xmax(pg_current_snapshot())::text::bigint, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            "OR pg_has_role('pg_read_all_stats', 'MEMBER')"
        )
        xmin, xmax, sees_all = cursor.fetchone()
        if not sees_all:
            return int(xmin)
        return _horizon_in_this_database(cursor, int(xmax))


# Running transactions of this database, read after `xmax`: their 32-bit ids widened to 64 bits
# against `xmax` (every running id is within 2^31 of it, PostgreSQL's wraparound limit).
_RUNNING_HERE = """
SELECT min(%(xmax)s + (((backend_xid::text::bigint - (%(xmax)s & 4294967295)) + 2147483648)
                       & 4294967295) - 2147483648)
FROM pg_stat_activity
WHERE datname = current_database() AND backend_xid IS NOT NULL
"""


def _horizon_in_this_database(cursor, xmax: int) -> int:  # type: ignore[no-untyped-def]
    """Why this is safe (D23): a transaction with an id below `xmax` had its id before the first
    statement; if it is still running at the second one, and is connected here, it is listed with
    its id, and the horizon stays at or below it. One that got its id later has an id at or above
    `xmax`. Either way no entry can still appear below the horizon. `pg_stat_activity` is cached
    per transaction, so the cache is cleared first."""
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(_RUNNING_HERE, {"xmax": xmax})
    oldest_running = cursor.fetchone()[0]
    return xmax if oldest_running is None else min(xmax, int(oldest_running))
