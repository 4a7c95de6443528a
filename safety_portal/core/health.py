"""Liveness and readiness (issue 14): what a load balancer and an operator ask a web process.

`/healthz` answers "is the process up" and touches nothing. `/readyz` answers "may this process
take traffic": the database is reachable and has every migration this code ships; the broker is
reachable, or the outbox holds follow-up work until it is back (the design degrades instead of
failing: the outbox of issue 7, throttles that fail open, D12); and the audit chain's unlinked
tail is younger than AUDIT_CHAIN_LAG_ALERT. Both are unauthenticated, so they say which check
failed and what to do, never a row, a host name or an exception's text (which can carry a DSN
with its password).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .audit.chainer import unchained_tail
from .outbox.models import OutboxMessage


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


@functools.cache
def _shipped_migrations() -> frozenset[tuple[str, str]]:
    """Every migration in this code (read from disk once per process: it cannot change under a
    running process, a deploy starts new ones)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def database() -> Check:
    """Reachable and migrated: one query for the applied migrations answers both."""
    try:
        applied = set(MigrationRecorder(connection).applied_migrations())
    except DatabaseError as exc:
        connection.close()  # a broken connection must not be reused by the next request
        return Check("database", False, f"unreachable ({type(exc).__name__}): check DATABASE_URL")
    missing = _shipped_migrations() - applied
    if missing:
        return Check(
            "database",
            False,
            f"{_count(len(missing), 'migration')} not applied: run `python manage.py migrate`",
        )
    return Check("database", True, "reachable, migrated")


def broker() -> Check:
    """Redis answers a PING within a second; without it, follow-up work waits in the outbox."""
    if not settings.REDIS_URL:
        return Check("broker", True, "embedded: tasks run in the web process")
    try:
        # One connection, opened here and closed at once: a probe must not hold a pool open.
        with redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=1,
            socket_timeout=1,
            single_connection_client=True,
        ) as client:
            client.ping()
    except redis.RedisError as exc:
        return _outbox_holds_the_work(type(exc).__name__)
    return Check("broker", True, "reachable")


def _outbox_holds_the_work(error: str) -> Check:
    try:
        waiting = OutboxMessage.objects.pending().count()
    except DatabaseError:
        connection.close()
        return Check("broker", False, f"unreachable ({error}) and the outbox cannot be written")
    return Check(
        "broker",
        True,
        f"degraded: unreachable ({error}); {waiting} tasks wait in the outbox and are relayed "
        "when it is back (`python manage.py relay_outbox`)",
    )


def audit_chain() -> Check:
    """The oldest entry the chainer has not linked is younger than AUDIT_CHAIN_LAG_ALERT."""
    try:
        tail = unchained_tail()
    except DatabaseError:
        connection.close()
        return Check("audit_chain", False, "the audit log cannot be read")
    age = tail.age_seconds()
    limit = settings.AUDIT_CHAIN_LAG_ALERT
    if age > limit:
        return Check(
            "audit_chain",
            False,
            f"{_count(tail.count, 'entry', 'entries')} unlinked, the oldest {age:.0f} s (limit "
            f"{limit:.0f} s): start "
            "the chainer (`python manage.py link_audit_chain`) or end the long transaction",
        )
    return Check(
        "audit_chain",
        True,
        f"{_count(tail.count, 'entry', 'entries')} unlinked, the oldest {age:.0f} s",
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def readiness() -> list[Check]:
    """Every check, in order; the database first, and the rest only if it answers."""
    db = database()
    if not db.ok:
        return [db]
    return [db, broker(), audit_chain()]


# --- the two endpoints ----------------------------------------------------------------------------
# Plain Django views, not DRF: no authentication, throttle, session or content negotiation to run
# (a load balancer asks every few seconds), and `never_cache` so no proxy answers for the process.


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; nothing else is touched."""
    return JsonResponse({"status": "up"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, 503 with each check's state (and what to do) when one fails."""
    checks = readiness()
    ready = all(c.ok for c in checks)
    return JsonResponse(
        {
            "status": "ready" if ready else "unready",
            "checks": {c.name: c.as_dict() for c in checks},
        },
        status=200 if ready else 503,
    )
