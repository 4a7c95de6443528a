"""D38: receipts of reports received with Prefer: respond-async. The client is named without a
database foreign key (its check would lock the client's row for every receipt); a constraint
trigger refuses an unknown client instead (moderation/triggers.py)."""

import django.db.models.deletion
from django.db import migrations, models

from moderation import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0003_client_never_deleted'),
        ('moderation', '0015_subject_message_integrity_by_trigger'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportReceipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=255)),
                ('request_hash', models.CharField(max_length=64)),
                ('received_at', models.DateTimeField()),
                ('payload', models.JSONField()),
                ('status', models.CharField(choices=[('received', 'Received, not filed yet'), ('filed', 'Filed'), ('refused', 'Refused')], default='received', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('last_failure', models.CharField(blank=True, max_length=200)),
                ('filed_at', models.DateTimeField(blank=True, null=True)),
                ('refusal', models.JSONField(blank=True, null=True)),
                ('client', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='integrations.apiclient')),
                ('report', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='moderation.report')),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('status', 'received')), fields=['id'], name='report_receipt_waiting'), models.Index(condition=models.Q(('status', 'received'), _negated=True), fields=['filed_at'], name='report_receipt_settled')],
                'constraints': [models.UniqueConstraint(fields=('client', 'key'), name='report_receipt_key_per_client'), models.CheckConstraint(condition=models.Q(models.Q(('filed_at__isnull', True), ('report__isnull', True), ('status', 'received')), models.Q(('filed_at__isnull', False), ('report__isnull', False), ('status', 'filed')), models.Q(('filed_at__isnull', False), ('refusal__isnull', False), ('report__isnull', True), ('status', 'refused')), _connector='OR'), name='report_receipt_outcome_matches_status')],
            },
        ),
        postgres_only_sql(triggers.RECEIPT_CLIENT_EXISTS, triggers.RECEIPT_CLIENT_EXISTS_DROP),
    ]
