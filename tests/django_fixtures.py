"""Fixtures shared by every test that runs with Django (loaded by tests/conftest.py when the
pytest-django plugin is active). They run against the real PostgreSQL and Redis (see the Makefile)."""

from __future__ import annotations

import datetime as dt

import pytest

from safety_portal.celery import app as celery_app
from safety_portal.core.audit.actors import SystemActor


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker_test(request: pytest.FixtureRequest) -> None:
    """Unit tests run tasks in-process; tests marked `worker` use a real worker and Redis."""
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def system() -> SystemActor:
    return SystemActor("tests")


@pytest.fixture
def today() -> dt.date:
    from safety_portal.core import clock

    return clock.today()


def _flush_past_the_audit_triggers() -> None:
    """Test infrastructure only: let transactional tests' teardown TRUNCATE the audit table.

    Django empties the database after a transactional test with TRUNCATE, which the audit triggers
    refuse. As the database superuser, the flush runs with `session_replication_role = replica`, the
    same power an attacker with superuser rights would have; the triggers stay strict for every test.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_audit_patched", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        return [
            "SET session_replication_role = replica",
            *statements,
            "SET session_replication_role = DEFAULT",
        ]

    sql_flush._audit_patched = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def _audit_safe_flush() -> None:
    from django.conf import settings

    # Pure tests may run without pytest-django (`-p no:django`): nothing to patch then.
    if settings.configured and "django.db.models" in __import__("sys").modules:
        _flush_past_the_audit_triggers()


@pytest.fixture(autouse=True)
def _isolated_audit_anchors(settings, tmp_path, request: pytest.FixtureRequest):
    """Anchors written by a test belong to its throwaway chain: keep them out of the real stores."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"test:audit:anchors:{request.node.nodeid}"
    redis_url, stream = (
        settings.REDIS_URL,
        settings.AUDIT_ANCHOR_STREAM,
    )  # before the test moves them
    yield
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            client.delete(stream)
        finally:
            client.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Real staff password hashing costs ~0.3 s each; tests do not need its strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def inline_audit_chain(settings) -> None:
    """Entries linked by their writer (D3) inside the test's transaction, for tests of what reads
    the chain (verification, positions). The default deferred writer (D23) links only after a
    commit, which a test transaction never makes; it is tested with committed transactions in
    tests/audit/test_deferred_chain.py and test_concurrency.py. List it before the fixtures that
    write entries."""
    settings.AUDIT_CHAIN_DEFERRED = False
