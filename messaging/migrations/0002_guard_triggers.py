"""The database refuses messaging writes that walk around the managers (PostgreSQL; see sql.py)."""

from django.db import migrations

from messaging import sql
from safety_portal.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]
    operations = [postgres_only_sql(sql.CREATE, sql.DROP)]
