"""The database refuses UPDATE, DELETE and TRUNCATE on the audit log (PostgreSQL)."""

from django.db import migrations

from safety_portal.core.audit import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [postgres_only_sql(triggers.CREATE, triggers.DROP)]
