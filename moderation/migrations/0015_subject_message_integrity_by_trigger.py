"""Issue 14.5 (D33): reports and cases name their message without a database foreign key, and a
constraint trigger refuses one naming a message that does not exist (moderation/triggers.py).

Messages become range-partitioned by month (messaging 0008), and PostgreSQL accepts a foreign key
into a partitioned table only if it names the partition key too; core.partitions refuses to
convert a table that a foreign key still points into. So this migration runs before messaging's
(`run_before`: the upper floor knows the lower one, never the reverse), and reversing it puts the
foreign keys back after messaging 0008 has made the table plain again.
"""

import django.db.models.deletion
from django.db import migrations, models

from moderation import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_send_snapshot_function"),
        ("moderation", "0014_transparency_period_indexes"),
    ]
    run_before = [("messaging", "0008_partitioned_by_month")]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="subject_message",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="messaging.message",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="subject_message",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="messaging.message",
            ),
        ),
        postgres_only_sql(triggers.SUBJECT_MESSAGE_EXISTS, triggers.SUBJECT_MESSAGE_EXISTS_DROP),
    ]
