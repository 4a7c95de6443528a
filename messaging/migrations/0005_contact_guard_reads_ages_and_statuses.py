"""The database refuses direct messages and thread participants the rules refuse outright
(PostgreSQL; issue 11.5; see messaging/triggers.py, version 2).

`CONTACT_GUARD_SQL` is `messaging.triggers.render_contact_guard_sql()` as rendered from the rules
when this migration was written, frozen so that it replays the same SQL forever. When the rules it
reads change, the drift test fails: write a new migration that re-creates the functions (its
module defines `CONTACT_GUARD_SQL` too). Reversing restores version 1's function bodies.
"""

from django.db import migrations

from messaging import triggers
from safety_portal.core.migration_helpers import postgres_only_sql

CONTACT_GUARD_SQL = """CREATE OR REPLACE FUNCTION messaging_guard_message_insert() RETURNS trigger AS $$
DECLARE
    t record;
BEGIN
    -- One statement reads the thread and, for a direct thread, both people (primary keys only).
    SELECT th.locked, th.kind, s.birthdate AS s_birthdate, s.status AS s_status,
           r.birthdate AS r_birthdate, r.status AS r_status INTO t
    FROM messaging_thread th
    LEFT JOIN accounts_user s ON th.kind = 'direct' AND s.id = NEW.sender_id
    LEFT JOIN accounts_user r ON th.kind = 'direct'
        AND r.id = CASE WHEN NEW.sender_id = th.direct_low_id
                        THEN th.direct_high_id ELSE th.direct_low_id END
    WHERE th.id = NEW.thread_id;
    IF t.locked THEN
        RAISE EXCEPTION 'thread % is locked: its messages are kept, nobody can post', NEW.thread_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_thread_locked';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM messaging_threadparticipant p
        WHERE p.thread_id = NEW.thread_id AND p.user_id = NEW.sender_id
    ) THEN
        RAISE EXCEPTION 'user % is not a participant of thread %', NEW.sender_id, NEW.thread_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_sender_is_participant';
    END IF;
    IF t.kind = 'direct' THEN
        -- The order of rules.contact.can_direct_message: status before age.
        IF t.s_status IN ('banned', 'under_age_review') THEN
            RAISE EXCEPTION 'thread %: the sender''s account is %', NEW.thread_id, t.s_status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_dm_sender_unavailable';
        END IF;
        IF t.r_status IN ('banned', 'under_age_review') THEN
            RAISE EXCEPTION 'thread %: the recipient''s account is %', NEW.thread_id, t.r_status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_dm_recipient_unavailable';
        END IF;
        IF (t.s_birthdate IS NULL OR t.s_birthdate > (CURRENT_DATE - interval '16 years')::date) THEN
            RAISE EXCEPTION 'thread %: the sender is under 16', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_dm_sender_under_16';
        END IF;
        IF (t.r_birthdate IS NULL OR t.r_birthdate > (CURRENT_DATE - interval '16 years')::date) THEN
            RAISE EXCEPTION 'thread %: the recipient is under 16', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_dm_recipient_under_16';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION messaging_guard_participant_insert() RETURNS trigger AS $$
DECLARE
    t record;
    n integer;
    bd date;
BEGIN
    SELECT kind, locked, direct_low_id, direct_high_id INTO t
    FROM messaging_thread WHERE id = NEW.thread_id;
    IF FOUND THEN
        IF t.locked THEN
            RAISE EXCEPTION 'thread % is locked: nobody can join', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_thread_locked';
        END IF;
        IF t.kind = 'direct' AND NEW.user_id NOT IN (t.direct_low_id, t.direct_high_id) THEN
            RAISE EXCEPTION 'thread % is a direct thread; user % is not one of its two people',
                NEW.thread_id, NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_direct_pair_only';
        END IF;
        SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.user_id;
        IF (bd IS NULL OR bd > (CURRENT_DATE - interval '16 years')::date) THEN
            RAISE EXCEPTION 'user % is under 16: no direct messages, no group threads', NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_participant_under_16';
        END IF;
        IF t.kind = 'group' THEN
            SELECT count(*) INTO n FROM messaging_threadparticipant WHERE thread_id = NEW.thread_id;
            IF n >= 50 THEN
                RAISE EXCEPTION 'thread % already has % participants', NEW.thread_id, n
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_group_size';
            END IF;
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_group_invites"), ("accounts", "0014_settings_ceiling_trigger")]
    operations = [postgres_only_sql(CONTACT_GUARD_SQL, triggers.CONTACT_GUARD_V1)]
