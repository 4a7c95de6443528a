"""Issue 14.5 (D32): the audit log becomes range-partitioned by month of `created_at`.

PostgreSQL only (the embedded SQLite demo keeps one table). The rows, indexes and the append-only
rules are carried over in the migration's transaction; the primary key becomes (id, created_at),
as PostgreSQL requires of a partitioned table, and `seq` and `hash` are unique per month (the
chain-head lock keeps them unique overall, and the verifier would name a duplicate).
"""

from django.conf import settings
from django.db import migrations

from safety_portal.core import clock, partitions
from safety_portal.core.audit import triggers
from safety_portal.core.audit.partitioning import AUDIT_LOG

_DROP_PARENT_TRIGGERS = """
DROP TRIGGER IF EXISTS audit_refuse_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_refuse_update ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_refuse_delete ON audit_auditentry;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitions.convert(
        AUDIT_LOG, months_ahead=settings.PARTITION_MONTHS_AHEAD, today=clock.today()
    )
    schema_editor.execute(triggers.PARENT, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_DROP_PARENT_TRIGGERS, params=None)
    partitions.unconvert(AUDIT_LOG)
    schema_editor.execute(triggers.PARENT, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_audit_order_by_id")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
