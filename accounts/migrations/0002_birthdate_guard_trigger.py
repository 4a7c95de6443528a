"""The database refuses birthdate changes that bypass a birthdate-change request (PostgreSQL)."""

from django.db import migrations

from accounts import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [postgres_only_sql(triggers.CREATE, triggers.DROP)]
