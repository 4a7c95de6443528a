"""The birthdate trigger also checks the date being replaced (PostgreSQL; see accounts/sql.py v2)."""

from django.db import migrations

from accounts import sql
from safety_portal.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_birthdate_request_decision_constraints")]
    operations = [postgres_only_sql(sql.GUARD_FUNCTION_V2, sql.GUARD_FUNCTION_V1)]
