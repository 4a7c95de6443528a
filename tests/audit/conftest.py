"""Fixtures of the audit tests: private anchor stores and helpers to write, tamper and verify."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from safety_portal.core import audit
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path: Path) -> Iterator[Path]:
    """Every test anchors into its own file and Redis stream, never the developer's."""
    path = tmp_path / "var" / "anchors" / "audit-anchors.log"
    stream = f"test:audit:anchors:{uuid.uuid4().hex}"
    settings.AUDIT_ANCHOR_FILE = str(path)
    settings.AUDIT_ANCHOR_STREAM = stream
    redis_url = django_settings.REDIS_URL  # before a test points it at a dead port
    yield path
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.delete(stream)
        client.close()


@pytest.fixture(autouse=True)
def writer_links_inline(settings) -> None:
    """The chain's own tests (verification, anchors, tampering, the writer) write with the inline
    writer (D3), which links each entry before its test transaction ends; the chain they check is
    the same whichever writer linked it. The deferred writer, the default on PostgreSQL, is tested
    against committed transactions in test_deferred_chain.py, tampering included."""
    settings.AUDIT_CHAIN_DEFERRED = False


@pytest.fixture
def redis_url() -> str:
    if not django_settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the Redis anchor stream cannot be tested")
    return django_settings.REDIS_URL


def write_entries(count: int, *, actor: object | None = None, action: str = "tests.entry.written"):
    """`count` entries, each in its own transaction like real changes."""
    actor = actor or SystemActor("tests.audit")
    entries = []
    for n in range(count):
        with transaction.atomic():
            entries.append(
                audit.record(actor=actor, action=action, reason=f"entry {n}", after={"n": n})
            )
    return entries


@dataclass
class Verdict:
    code: int
    out: str
    err: str


def verify(*args: str) -> Verdict:
    """Run `verify_audit_log` as an operator would; its exit status is the verdict."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return Verdict(int(exc.code or 0), out.getvalue(), err.getvalue())
    return Verdict(0, out.getvalue(), err.getvalue())


@contextmanager
def as_superuser_bypassing_triggers() -> Iterator[object]:
    """What an attacker with superuser rights can do: switch the triggers off for a while."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0], "tampering tests need the database superuser"
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def entry(seq: int) -> AuditEntry:
    return AuditEntry.objects.get(seq=seq)
