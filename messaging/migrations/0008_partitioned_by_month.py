"""Issue 14.5 (D33): messages become range-partitioned by month of `created_at`.

PostgreSQL only (the embedded SQLite demo keeps one table). The rows, the indexes and the foreign
keys out of the table are carried over in the migration's transaction by core.partitions; the
primary key becomes (id, created_at), as PostgreSQL requires of a partitioned table. The guard
triggers are created again on the parent (PostgreSQL clones the row triggers onto each partition)
with a TRUNCATE refusal on the parent and on each partition.

No foreign key may point into a partitioned table unless it names the partition key too:
moderation's reports and cases replace theirs with a constraint trigger first (moderation 0015,
which declares that it runs before this migration; messaging does not know its upper floor).
"""

from django.conf import settings
from django.db import migrations

from messaging import triggers
from messaging.partitioning import MESSAGES
from safety_portal.core import clock, partitions


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitions.convert(MESSAGES, months_ahead=settings.PARTITION_MONTHS_AHEAD, today=clock.today())
    schema_editor.execute(triggers.PARTITIONED_PARENT, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(triggers.DROP_PARTITIONED_PARENT, params=None)
    partitions.unconvert(MESSAGES)
    schema_editor.execute(triggers.MESSAGE_ROW_TRIGGERS, params=None)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0007_message_fk_indexes_trim")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
