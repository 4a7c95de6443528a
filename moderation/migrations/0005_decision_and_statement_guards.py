"""The database refuses edits of a decision's substance and of statements of reasons (PostgreSQL)."""

from django.db import migrations

from moderation import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("moderation", "0004_staff_roles_moderation_permissions")]
    operations = [postgres_only_sql(triggers.CREATE, triggers.DROP)]
