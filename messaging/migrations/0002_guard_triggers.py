"""The database refuses messaging writes that walk around the managers (PostgreSQL; see triggers.py)."""

from django.db import migrations

from messaging import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]
    operations = [postgres_only_sql(triggers.CREATE, triggers.DROP)]
