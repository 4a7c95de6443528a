"""Heavy reads on a streaming replica (issue 14.4), everything else on the primary.

A read is sent to the replica only when its caller says it may be (`heavy_reads()`, or the
`reads_from_replica` view decorator): the dashboard charts, the transparency and regulator
reports, exports and the audit log search. They read a great deal, and none needs to see a write
made a moment ago. Everything else (every write, every read that must see its own writes) stays on
the primary, and so does a heavy read that runs inside a transaction of the primary (it may read
what that transaction wrote) or while the replica lags more than REPLICA_MAX_LAG_SECONDS.

The lag is the replica's own account (`now() - pg_last_xact_replay_timestamp()` while it has WAL
it has not replayed), asked once per `heavy_reads()` block and remembered for
REPLICA_LAG_CHECK_SECONDS per process: a cache of a measurement, not state another process needs.
A replica that does not answer counts as lagging. Migrations run on the primary only.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("use_replica", default=False)
_lag_seen: dict[str, tuple[float, float | None]] = {}  # alias -> (monotonic time, lag or None)

LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() "
    "THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def configured() -> bool:
    return bool(settings.DATABASE_REPLICA_URL)


def replica_lag() -> float | None:
    """Seconds the replica is behind (0 when it has replayed all it received), None when it does
    not answer. Remembered for REPLICA_LAG_CHECK_SECONDS."""
    now = time.monotonic()
    seen = _lag_seen.get(REPLICA)
    if seen is not None and now - seen[0] < settings.REPLICA_LAG_CHECK_SECONDS:
        return seen[1]
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag: float | None = float(cursor.fetchone()[0])
    except DatabaseError as exc:
        connections[REPLICA].close()
        logger.warning(
            "replica unreachable (%s): heavy reads go to the primary", type(exc).__name__
        )
        lag = None
    _lag_seen[REPLICA] = (now, lag)
    return lag


def forget_lag() -> None:
    """Measure again at the next heavy read (tests; an operator's shell after a failover)."""
    _lag_seen.clear()


def replica_is_usable() -> bool:
    if not configured():
        return False
    lag = replica_lag()
    return lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS


@contextmanager
def heavy_reads() -> Iterator[str]:
    """Reads in this block may go to the replica; yields the alias they will use."""
    usable = replica_is_usable()
    token = _use_replica.set(usable)
    try:
        yield REPLICA if usable else DEFAULT_DB_ALIAS
    finally:
        _use_replica.reset(token)


View = TypeVar("View", bound=Callable[..., Any])


def reads_from_replica(view: View) -> View:
    """A view whose reads are heavy and need not see a write made a moment ago."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with heavy_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class ReplicaRouter:
    """DATABASE_ROUTERS: the replica for heavy reads outside a primary transaction, the primary
    for everything else, and migrations on the primary only."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        if _use_replica.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
