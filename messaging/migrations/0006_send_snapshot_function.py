"""The send's read as a PL/pgSQL function, so that PostgreSQL plans it once per connection
(issue 13; messaging/snapshot.py `function_sql`; D24).

`SEND_SNAPSHOT_SQL` is `messaging.snapshot.function_sql()` as rendered from the models when this
migration was written, frozen so that it replays the same SQL forever. When the models it reads
change, the drift test (tests/messaging/test_snapshot.py) fails: write a new migration that
re-creates the function (its module defines `SEND_SNAPSHOT_SQL` too). PostgreSQL only: the SQLite
demo runs the same query as plain SQL.
"""

from django.db import migrations

from safety_portal.core.migration_helpers import postgres_only_sql

SEND_SNAPSHOT_SQL = """CREATE OR REPLACE FUNCTION messaging_send_snapshot(bigint, timestamptz)
RETURNS TABLE (c0 bigint, c1 bigint, c2 bigint, c3 boolean, c4 boolean, c5 boolean, c6 bigint, c7 varchar(6), c8 bigint, c9 boolean, c10 bigint, c11 timestamp with time zone, c12 date, c13 varchar(2), c14 varchar(20), c15 bigint, c16 bigint, c17 varchar(10), c18 boolean, c19 varchar(10), c20 varchar(10), c21 boolean, c22 boolean, c23 boolean, c24 bigint, c25 bigint, c26 boolean, c27 smallint, c28 time, c29 time, c30 boolean, c31 bigint, c32 varchar(12), c33 varchar(20))
LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN QUERY
SELECT p.thread_id, p.user_id, p.added_by_id,
       EXISTS (SELECT 1 FROM messaging_connection c
               WHERE c.follower_id = p.user_id AND c.followee_id = p.added_by_id),
       EXISTS (SELECT 1 FROM messaging_connection c
               WHERE c.follower_id = p.added_by_id AND c.followee_id = p.user_id),
       EXISTS (SELECT 1 FROM messaging_block b
               JOIN messaging_threadparticipant o
                 ON o.thread_id = p.thread_id AND o.user_id = b.blocked_id
               WHERE b.blocker_id = p.user_id)
       OR EXISTS (SELECT 1 FROM messaging_block b
               JOIN messaging_threadparticipant o
                 ON o.thread_id = p.thread_id AND o.user_id = b.blocker_id
               WHERE b.blocked_id = p.user_id), t."id", t."kind", t."creator_id", t."locked", u."id", u."date_joined", u."birthdate", u."country", u."status", s."id", s."user_id", s."dm_setting", s."private_account", s."comment_setting", s."duet_setting", s."download_setting", s."suggest_account", s."connections_visible", g."id", g."teen_id", g."dm_off", g."daily_screen_time_minutes", g."quiet_hours_start", g."quiet_hours_end", g."consents_to_personalisation", r."id", r."kind", r."feature"
FROM messaging_threadparticipant p
JOIN messaging_thread t ON t.id = p.thread_id
JOIN "accounts_user" u ON u."id" = p.user_id
LEFT JOIN "accounts_safetysettings" s ON s."user_id" = u."id"
LEFT JOIN "accounts_guardianlink" g ON g."teen_id" = u."id" AND g."status" = 'active'
LEFT JOIN "moderation_restriction" r ON r."user_id" = u."id" AND r."starts_at" <= $2 AND (r."ends_at" IS NULL OR r."ends_at" > $2) AND r."lifted_at" IS NULL
WHERE p.thread_id IN ($1)
ORDER BY p.thread_id, p.joined_at, p.id, g."id", r."id";
END
$$;"""

DROP = "DROP FUNCTION IF EXISTS messaging_send_snapshot(bigint, timestamptz);"


class Migration(migrations.Migration):
    dependencies = [("messaging", "0005_contact_guard_reads_ages_and_statuses")]

    operations = [postgres_only_sql(SEND_SNAPSHOT_SQL, DROP)]
