"""The birthdate trigger also allows the erasure of a closed account's birthdate (PostgreSQL).

Issue 7 / POLICY.md §4 / COPPA: when an under-age account is closed its birthdate is set to NULL.
The guard of accounts/triggers.py (version 2, migration 0005) refuses every birthdate change that is not
an applied birthdate-change request; version 3 below keeps that rule and adds one exception: setting
the birthdate to NULL when the transaction names this very user in `safety_portal.erasure`
(`accounts.closure._sanction_erasure`, called only by `close_account`). Reversing restores v2.
"""

from django.db import migrations

from accounts import triggers
from safety_portal.core.migration_helpers import postgres_only_sql

GUARD_FUNCTION_V3 = """
CREATE OR REPLACE FUNCTION accounts_guard_birthdate() RETURNS trigger AS $$
DECLARE
    sanctioned text := current_setting('safety_portal.birthdate_request', true);
    erasure text := current_setting('safety_portal.erasure', true);
BEGIN
    IF NEW.birthdate IS DISTINCT FROM OLD.birthdate THEN
        IF NEW.birthdate IS NULL AND erasure IS NOT NULL AND erasure = NEW.id::text THEN
            RETURN NEW;
        END IF;
        IF sanctioned IS NULL OR sanctioned !~ '^[0-9]+$' OR NOT EXISTS (
            SELECT 1 FROM accounts_birthdatechangerequest r
            WHERE r.id = sanctioned::bigint
              AND r.user_id = NEW.id
              AND r.old_birthdate = OLD.birthdate
              AND r.new_birthdate = NEW.birthdate
              AND r.status IN ('applied', 'approved')
        ) THEN
            RAISE EXCEPTION 'the birthdate of user % changes only through an applied birthdate-change request', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_birthdate_guard_checks_old_date")]
    operations = [postgres_only_sql(GUARD_FUNCTION_V3, triggers.GUARD_FUNCTION_V2)]
