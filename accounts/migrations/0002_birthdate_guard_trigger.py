"""The database refuses birthdate changes that bypass a birthdate-change request (PostgreSQL)."""

from django.db import migrations

from accounts import sql
from safety_portal.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [postgres_only_sql(sql.CREATE, sql.DROP)]
