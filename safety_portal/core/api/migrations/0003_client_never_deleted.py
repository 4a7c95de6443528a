"""D38: an API client is never deleted (a trigger backs the admin's missing delete), and the
idempotency records lose the single-column client index that their unique (client, key) index
already serves."""

import django.db.models.deletion
from django.db import migrations, models

from safety_portal.core.api import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0002_webhook_event_notice_created'),
    ]

    operations = [
        migrations.AlterField(
            model_name='idempotencyrecord',
            name='client',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='integrations.apiclient'),
        ),
        postgres_only_sql(triggers.NEVER_DELETED, triggers.NEVER_DELETED_DROP),
    ]
