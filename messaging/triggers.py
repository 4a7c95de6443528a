"""PostgreSQL triggers: what the database itself refuses when a write walks around the managers.

POLICY.md §3 and issue 3 ("backstops under the managers"). A check constraint sees one row; these
triggers look at the thread the row belongs to:

- a message INSERT into a locked thread, or by someone who is not a participant;
- an UPDATE of what was sent (thread, sender, body, time, provenance): a removed message keeps its
  body for the case record and appeals; a DELETE of a message (moderation never hard-deletes);
- a change of moderation state outside `Message.objects.set_moderation_state`, which names the
  message it changes in the transaction setting `safety_portal.message_moderation`;
- a participant INSERT into a locked thread, into a direct thread for anyone but its pair, or
  beyond `MAX_GROUP_PARTICIPANTS`; an UPDATE or DELETE of a participant (messages keep their sender);
- a thread's identity changing (kind, creator, pair, creation time), a thread DELETE, and an
  unlock outside `Thread.objects.unlock`, which names the thread in `safety_portal.thread_unlock`.
  Locking is never refused: it only adds protection.

What the database cannot judge is most of the age policy (it lives in Python, in one place): a
participant smuggled into a group with raw SQL is caught by the next send, which asks the policy
about every member and locks the thread. Version 2 (below) adds the cheap, unambiguous part:
nobody under 16 joins a thread, and a direct message is refused when either person is under 16
or has an account that is banned or under age review.

The errors carry a constraint name (`CONSTRAINT = ...`) so that the managers can tell a lock that
raced a send from any other integrity error. Changing `MAX_GROUP_PARTICIPANTS` needs a migration
that re-creates `messaging_guard_participant_insert`.
"""

from __future__ import annotations

from safety_portal.rules.account_status import NEVER_REACHABLE
from safety_portal.rules.ages import DM_MINIMUM_AGE
from safety_portal.rules.vocabulary import Reason

from .limits import MAX_GROUP_PARTICIPANTS

THREAD_LOCKED_CONSTRAINT = "messaging_thread_locked"

CREATE = f"""
CREATE OR REPLACE FUNCTION messaging_guard_message_insert() RETURNS trigger AS $$
DECLARE
    is_locked boolean;
BEGIN
    SELECT t.locked INTO is_locked FROM messaging_thread t WHERE t.id = NEW.thread_id;
    IF is_locked THEN
        RAISE EXCEPTION 'thread % is locked: its messages are kept, nobody can post', NEW.thread_id
            USING ERRCODE = 'check_violation', CONSTRAINT = '{THREAD_LOCKED_CONSTRAINT}';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM messaging_threadparticipant p
        WHERE p.thread_id = NEW.thread_id AND p.user_id = NEW.sender_id
    ) THEN
        RAISE EXCEPTION 'user % is not a participant of thread %', NEW.sender_id, NEW.thread_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_sender_is_participant';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_message_insert_guard
    BEFORE INSERT ON messaging_message
    FOR EACH ROW EXECUTE FUNCTION messaging_guard_message_insert();

CREATE OR REPLACE FUNCTION messaging_guard_message_update() RETURNS trigger AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.thread_id IS DISTINCT FROM OLD.thread_id
       OR NEW.sender_id IS DISTINCT FROM OLD.sender_id
       OR NEW.body IS DISTINCT FROM OLD.body
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.sent_via IS DISTINCT FROM OLD.sent_via THEN
        RAISE EXCEPTION 'message %: what was sent is kept as sent (thread, sender, body, time)', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_message_content_kept';
    END IF;
    IF (NEW.moderation_state IS DISTINCT FROM OLD.moderation_state
        OR NEW.moderation_changed_at IS DISTINCT FROM OLD.moderation_changed_at)
       AND coalesce(current_setting('safety_portal.message_moderation', true), '') <> OLD.id::text THEN
        RAISE EXCEPTION 'message %: moderation state changes only through Message.objects.set_moderation_state', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_moderation_through_manager';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_message_update_guard
    BEFORE UPDATE ON messaging_message
    FOR EACH ROW EXECUTE FUNCTION messaging_guard_message_update();

CREATE OR REPLACE FUNCTION messaging_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%: rows are kept (messages are hidden or removed by moderation, never deleted)', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_rows_kept';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_message_delete_guard
    BEFORE DELETE ON messaging_message
    FOR EACH ROW EXECUTE FUNCTION messaging_refuse_delete();

CREATE OR REPLACE FUNCTION messaging_guard_participant_insert() RETURNS trigger AS $$
DECLARE
    t record;
    n integer;
BEGIN
    SELECT kind, locked, direct_low_id, direct_high_id INTO t
    FROM messaging_thread WHERE id = NEW.thread_id;
    IF FOUND THEN
        IF t.locked THEN
            RAISE EXCEPTION 'thread % is locked: nobody can join', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = '{THREAD_LOCKED_CONSTRAINT}';
        END IF;
        IF t.kind = 'direct' AND NEW.user_id NOT IN (t.direct_low_id, t.direct_high_id) THEN
            RAISE EXCEPTION 'thread % is a direct thread; user % is not one of its two people',
                NEW.thread_id, NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_direct_pair_only';
        END IF;
        IF t.kind = 'group' THEN
            SELECT count(*) INTO n FROM messaging_threadparticipant WHERE thread_id = NEW.thread_id;
            IF n >= {MAX_GROUP_PARTICIPANTS} THEN
                RAISE EXCEPTION 'thread % already has % participants', NEW.thread_id, n
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_group_size';
            END IF;
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_participant_insert_guard
    BEFORE INSERT ON messaging_threadparticipant
    FOR EACH ROW EXECUTE FUNCTION messaging_guard_participant_insert();

CREATE OR REPLACE FUNCTION messaging_refuse_participant_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'participants are kept as they joined (messages keep their sender)'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_participant_kept';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_participant_change_guard
    BEFORE UPDATE OR DELETE ON messaging_threadparticipant
    FOR EACH ROW EXECUTE FUNCTION messaging_refuse_participant_change();

CREATE OR REPLACE FUNCTION messaging_guard_thread_update() RETURNS trigger AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.creator_id IS DISTINCT FROM OLD.creator_id
       OR NEW.direct_low_id IS DISTINCT FROM OLD.direct_low_id
       OR NEW.direct_high_id IS DISTINCT FROM OLD.direct_high_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'thread %: kind, creator, pair and creation time never change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_thread_identity_kept';
    END IF;
    IF OLD.locked AND NOT NEW.locked
       AND coalesce(current_setting('safety_portal.thread_unlock', true), '') <> OLD.id::text THEN
        RAISE EXCEPTION 'thread %: unlocking is an explicit action (Thread.objects.unlock)', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_unlock_explicit';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER messaging_thread_update_guard
    BEFORE UPDATE ON messaging_thread
    FOR EACH ROW EXECUTE FUNCTION messaging_guard_thread_update();

CREATE TRIGGER messaging_thread_delete_guard
    BEFORE DELETE ON messaging_thread
    FOR EACH ROW EXECUTE FUNCTION messaging_refuse_delete();
"""

DROP = """
DROP TRIGGER IF EXISTS messaging_thread_delete_guard ON messaging_thread;
DROP TRIGGER IF EXISTS messaging_thread_update_guard ON messaging_thread;
DROP FUNCTION IF EXISTS messaging_guard_thread_update();
DROP TRIGGER IF EXISTS messaging_participant_change_guard ON messaging_threadparticipant;
DROP FUNCTION IF EXISTS messaging_refuse_participant_change();
DROP TRIGGER IF EXISTS messaging_participant_insert_guard ON messaging_threadparticipant;
DROP FUNCTION IF EXISTS messaging_guard_participant_insert();
DROP TRIGGER IF EXISTS messaging_message_delete_guard ON messaging_message;
DROP FUNCTION IF EXISTS messaging_refuse_delete();
DROP TRIGGER IF EXISTS messaging_message_update_guard ON messaging_message;
DROP FUNCTION IF EXISTS messaging_guard_message_update();
DROP TRIGGER IF EXISTS messaging_message_insert_guard ON messaging_message;
DROP FUNCTION IF EXISTS messaging_guard_message_insert();
"""


# -- Version 2 of the message and participant INSERT guards (migration 0005, issue 11.5) ---------
# The database also refuses a direct message whose sender or recipient the rules refuse outright,
# and anyone under 16 joining any thread (POLICY.md §3: under-16s have no DMs and no group
# threads). The SQL is generated from `rules.ages.DM_MINIMUM_AGE` and
# `rules.account_status.NEVER_REACHABLE`; the migration keeps the text it ran, and the drift test
# (tests/messaging/test_contact_triggers.py) fails when the rules and the latest migrated text part.
#
# Only the cheap, unambiguous checks: primary-key reads of the thread and of the two people. What
# stays in Python (`rules.contact`): friendship, blocks, DM settings, guardians, moderation
# restrictions and the time-bound statuses (suspended, restricted), which lapse with their
# restriction's end time (D5) and so need the restriction rows and the clock.

DM_SENDER_UNAVAILABLE_CONSTRAINT = "messaging_dm_sender_unavailable"
DM_RECIPIENT_UNAVAILABLE_CONSTRAINT = "messaging_dm_recipient_unavailable"
DM_SENDER_UNDER_16_CONSTRAINT = "messaging_dm_sender_under_16"
DM_RECIPIENT_UNDER_16_CONSTRAINT = "messaging_dm_recipient_under_16"
PARTICIPANT_UNDER_16_CONSTRAINT = "messaging_participant_under_16"

# The reason code a manager reports when one of these refusals beats its own check (a race).
DM_REFUSALS: dict[str, Reason] = {
    DM_SENDER_UNAVAILABLE_CONSTRAINT: Reason.ACCOUNT_RESTRICTED,
    DM_RECIPIENT_UNAVAILABLE_CONSTRAINT: Reason.RECIPIENT_UNAVAILABLE,
    DM_SENDER_UNDER_16_CONSTRAINT: Reason.DM_SENDER_UNDER_16,
    DM_RECIPIENT_UNDER_16_CONSTRAINT: Reason.DM_RECIPIENT_UNDER_16,
}


def _under_dm_age(birthdate: str) -> str:
    """Under DM_MINIMUM_AGE on CURRENT_DATE, or no known age (rules.ages.latest_birthdate_for_age:
    PostgreSQL takes 29 February back to 28 February, as Python does)."""
    return (
        f"({birthdate} IS NULL OR {birthdate} > "
        f"(CURRENT_DATE - interval '{DM_MINIMUM_AGE} years')::date)"
    )


def render_contact_guard_sql() -> str:
    """The message and participant INSERT guards (version 2), generated from the rules."""
    refused = ", ".join(f"'{s.value}'" for s in sorted(NEVER_REACHABLE))
    return f"""
CREATE OR REPLACE FUNCTION messaging_guard_message_insert() RETURNS trigger AS $$
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
            USING ERRCODE = 'check_violation', CONSTRAINT = '{THREAD_LOCKED_CONSTRAINT}';
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
        IF t.s_status IN ({refused}) THEN
            RAISE EXCEPTION 'thread %: the sender''s account is %', NEW.thread_id, t.s_status
                USING ERRCODE = 'check_violation', CONSTRAINT = '{DM_SENDER_UNAVAILABLE_CONSTRAINT}';
        END IF;
        IF t.r_status IN ({refused}) THEN
            RAISE EXCEPTION 'thread %: the recipient''s account is %', NEW.thread_id, t.r_status
                USING ERRCODE = 'check_violation', CONSTRAINT = '{DM_RECIPIENT_UNAVAILABLE_CONSTRAINT}';
        END IF;
        IF {_under_dm_age("t.s_birthdate")} THEN
            RAISE EXCEPTION 'thread %: the sender is under {DM_MINIMUM_AGE}', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = '{DM_SENDER_UNDER_16_CONSTRAINT}';
        END IF;
        IF {_under_dm_age("t.r_birthdate")} THEN
            RAISE EXCEPTION 'thread %: the recipient is under {DM_MINIMUM_AGE}', NEW.thread_id
                USING ERRCODE = 'check_violation', CONSTRAINT = '{DM_RECIPIENT_UNDER_16_CONSTRAINT}';
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
                USING ERRCODE = 'check_violation', CONSTRAINT = '{THREAD_LOCKED_CONSTRAINT}';
        END IF;
        IF t.kind = 'direct' AND NEW.user_id NOT IN (t.direct_low_id, t.direct_high_id) THEN
            RAISE EXCEPTION 'thread % is a direct thread; user % is not one of its two people',
                NEW.thread_id, NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_direct_pair_only';
        END IF;
        SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.user_id;
        IF {_under_dm_age("bd")} THEN
            RAISE EXCEPTION 'user % is under {DM_MINIMUM_AGE}: no direct messages, no group threads', NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = '{PARTICIPANT_UNDER_16_CONSTRAINT}';
        END IF;
        IF t.kind = 'group' THEN
            SELECT count(*) INTO n FROM messaging_threadparticipant WHERE thread_id = NEW.thread_id;
            IF n >= {MAX_GROUP_PARTICIPANTS} THEN
                RAISE EXCEPTION 'thread % already has % participants', NEW.thread_id, n
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'messaging_group_size';
            END IF;
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def _version_1_function(name: str) -> str:
    """One function of version 1 as `CREATE` defines it (what migration 0005 restores)."""
    start = CREATE.index(f"CREATE OR REPLACE FUNCTION {name}()")
    end = CREATE.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql;")
    return CREATE[start:end]


CONTACT_GUARD_V1 = "\n\n".join(
    _version_1_function(name)
    for name in ("messaging_guard_message_insert", "messaging_guard_participant_insert")
)


# -- Monthly partitions (migration 0008, issue 14.5, D33) ----------------------------------------
# Messages are range-partitioned by month of `created_at` on PostgreSQL. The three row triggers
# are created on the parent, and PostgreSQL clones them onto every partition, present and future:
# a write addressed to a partition directly is refused as one addressed to the parent. A TRUNCATE
# trigger is a statement trigger, which PostgreSQL does not clone, so each partition gets its own
# when it is created (`PER_PARTITION`, run by core.partitions) and the parent keeps one.
#
# The TRUNCATE refusal is new with the partitions. TRUNCATE fires no DELETE trigger, so the plain
# table already had that gap; a month partition makes it a one-statement way to empty a month of
# messages, stepping around "messages are never deleted" (issue 3). It reuses
# `messaging_refuse_delete()`, whose message names the table.


def _version_1_trigger(name: str) -> str:
    """One `CREATE TRIGGER` of version 1 as `CREATE` defines it."""
    start = CREATE.index(f"CREATE TRIGGER {name}\n")
    return CREATE[start : CREATE.index(";", start) + 1]


# The row triggers of migration 0002, as it made them (what the reverse migration puts back on
# the plain table, too).
MESSAGE_ROW_TRIGGERS = "\n".join(
    _version_1_trigger(name)
    for name in (
        "messaging_message_insert_guard",
        "messaging_message_update_guard",
        "messaging_message_delete_guard",
    )
)

PER_PARTITION = """
CREATE TRIGGER messaging_message_truncate_guard
    BEFORE TRUNCATE ON {partition}
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_refuse_delete();
"""

PARTITIONED_PARENT = (
    MESSAGE_ROW_TRIGGERS + "\n" + PER_PARTITION.format(partition="messaging_message")
)

DROP_PARTITIONED_PARENT = """
DROP TRIGGER IF EXISTS messaging_message_truncate_guard ON messaging_message;
DROP TRIGGER IF EXISTS messaging_message_delete_guard ON messaging_message;
DROP TRIGGER IF EXISTS messaging_message_update_guard ON messaging_message;
DROP TRIGGER IF EXISTS messaging_message_insert_guard ON messaging_message;
"""
