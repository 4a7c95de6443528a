"""The database refuses UPDATE, DELETE and TRUNCATE on the audit log (PostgreSQL)."""

from django.db import migrations

from safety_portal.audit import sql
from safety_portal.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [postgres_only_sql(sql.CREATE, sql.DROP)]
