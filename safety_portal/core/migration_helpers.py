"""Run SQL in a migration on PostgreSQL only (the embedded SQLite demo has no triggers)."""

from __future__ import annotations

from django.db import migrations


def postgres_only_sql(create: str, drop: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop, params=None)

    return migrations.RunPython(forwards, backwards, elidable=False)
