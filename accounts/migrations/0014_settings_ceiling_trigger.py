"""The database refuses safety settings above the tier ceiling (PostgreSQL; issue 11.5).

`CEILING_TRIGGER_SQL` is `accounts.triggers.render_settings_ceiling_sql()` as it was rendered from the
rules when this migration was written (version 1), frozen so that this migration replays the same SQL
forever. When the ceilings or the tier ages change, the drift test fails: write a new migration that
re-creates the trigger from the new rendering (its module defines `CEILING_TRIGGER_SQL` too).
"""

from django.db import migrations

from accounts import triggers
from safety_portal.core.migration_helpers import postgres_only_sql

CEILING_TRIGGER_SQL = """CREATE OR REPLACE FUNCTION accounts_settings_breach(
    birthdate date, s accounts_safetysettings
) RETURNS text AS $$
    SELECT CASE
            WHEN tier = 'child' AND s.dm_setting IN ('friends', 'everyone') THEN 'dm_setting'
            WHEN tier = 'child' AND s.private_account IN (false) THEN 'private_account'
            WHEN tier = 'child' AND s.comment_setting IN ('friends', 'everyone') THEN 'comment_setting'
            WHEN tier = 'child' AND s.duet_setting IN ('friends', 'everyone') THEN 'duet_setting'
            WHEN tier = 'child' AND s.download_setting IN (true) THEN 'download_setting'
            WHEN tier = 'child' AND s.suggest_account IN (true) THEN 'suggest_account'
            WHEN tier = 'child' AND s.connections_visible IN (true) THEN 'connections_visible'
            WHEN tier = 'young_teen' AND s.dm_setting IN ('friends', 'everyone') THEN 'dm_setting'
            WHEN tier = 'young_teen' AND s.comment_setting IN ('everyone') THEN 'comment_setting'
            WHEN tier = 'young_teen' AND s.duet_setting IN ('friends', 'everyone') THEN 'duet_setting'
            WHEN tier = 'young_teen' AND s.download_setting IN (true) THEN 'download_setting'
            WHEN tier = 'young_teen' AND s.suggest_account IN (true) THEN 'suggest_account'
            WHEN tier = 'young_teen' AND s.connections_visible IN (true) THEN 'connections_visible'
            WHEN tier = 'older_teen' AND s.dm_setting IN ('everyone') THEN 'dm_setting'
            WHEN tier = 'older_teen' AND s.download_setting IN (true) THEN 'download_setting'
            ELSE NULL END
    FROM (SELECT CASE WHEN birthdate IS NULL THEN 'child'
            WHEN birthdate <= (CURRENT_DATE - interval '18 years')::date THEN 'adult'
            WHEN birthdate <= (CURRENT_DATE - interval '16 years')::date THEN 'older_teen'
            WHEN birthdate <= (CURRENT_DATE - interval '13 years')::date THEN 'young_teen'
            ELSE 'child' END AS tier) AS t;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION accounts_guard_settings_ceiling() RETURNS trigger AS $$
DECLARE
    bd date;
    breach text;
BEGIN
    SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.user_id;
    breach := accounts_settings_breach(bd, NEW);
    IF breach IS NOT NULL THEN
        RAISE EXCEPTION 'safety settings of user %: % is above the tier ceiling', NEW.user_id, breach
            USING ERRCODE = 'check_violation', CONSTRAINT = 'accounts_settings_within_tier_ceiling';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_settings_ceiling_guard
    BEFORE INSERT OR UPDATE OF user_id, dm_setting, private_account, comment_setting, duet_setting, download_setting, suggest_account, connections_visible ON accounts_safetysettings
    FOR EACH ROW EXECUTE FUNCTION accounts_guard_settings_ceiling();

CREATE OR REPLACE FUNCTION accounts_check_settings_after_birthdate() RETURNS trigger AS $$
DECLARE
    s accounts_safetysettings;
    bd date;
    breach text;
BEGIN
    -- Deferred to the commit: read the rows as they are then, not as this UPDATE left them.
    SELECT * INTO s FROM accounts_safetysettings WHERE user_id = NEW.id;
    SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.id;
    IF FOUND AND s.user_id IS NOT NULL AND bd IS NOT NULL THEN
        breach := accounts_settings_breach(bd, s);
        IF breach IS NOT NULL THEN
            RAISE EXCEPTION 'user %: after the birthdate change, % is above the tier ceiling', NEW.id, breach
                USING ERRCODE = 'check_violation', CONSTRAINT = 'accounts_settings_within_tier_ceiling';
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER accounts_user_settings_ceiling_check
    AFTER UPDATE OF birthdate ON accounts_user
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.birthdate IS NOT NULL AND NEW.birthdate IS DISTINCT FROM OLD.birthdate)
    EXECUTE FUNCTION accounts_check_settings_after_birthdate();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_reregistration_signals")]
    operations = [postgres_only_sql(CEILING_TRIGGER_SQL, triggers.SETTINGS_CEILING_DROP)]
