"""The database refuses edits of a decision's substance and of statements of reasons (PostgreSQL)."""

from django.db import migrations

from moderation import sql
from safety_portal.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("moderation", "0004_staff_roles_moderation_permissions")]
    operations = [postgres_only_sql(sql.CREATE, sql.DROP)]
