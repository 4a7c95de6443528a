"""The birthdate trigger also checks the date being replaced (PostgreSQL; see accounts/triggers.py v2)."""

from django.db import migrations

from accounts import triggers
from safety_portal.core.migration_helpers import postgres_only_sql


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_birthdate_request_decision_constraints")]
    operations = [postgres_only_sql(triggers.GUARD_FUNCTION_V2, triggers.GUARD_FUNCTION_V1)]
