"""A separate process that appends to the audit log (the concurrency test spawns several).

No Django import at module level: a spawned interpreter imports this module before Django is set
up, and must point Django at the test database first.
"""

from __future__ import annotations

import os
from typing import Any


def append_entries(
    database_url: str, writer: str, count: int, ready: Any, go: Any, deferred: bool
) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["AUDIT_CHAIN_DEFERRED"] = "true" if deferred else "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safety_portal.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from safety_portal.core import audit
    from safety_portal.core.audit.actors import SystemActor

    actor = SystemActor(f"tests.{writer}")
    connection.ensure_connection()
    ready.set()
    go.wait(30)
    try:
        for n in range(count):
            with transaction.atomic():
                audit.record(actor=actor, action="tests.concurrent.appended", after={"n": n})
                # Hold the transaction open a moment (and with the inline writer, the chain head),
                # so the writers' transactions overlap.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.001)")
    finally:
        connection.close()
