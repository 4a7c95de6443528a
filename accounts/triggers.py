"""PostgreSQL trigger: a birthdate changes only through an applied birthdate-change request.

POLICY.md §4: nobody edits a birthdate in place. The manager's sanctioned path sets the transaction
setting `safety_portal.birthdate_request` to the id of the request it applies; the trigger checks that
such a request exists for this user, with this new date, in an applied or approved state. Anything
else — `QuerySet.update()`, raw SQL, an admin form — is refused by the database.
"""

# Version 1 (migration 0002). Kept as it was so that migration replays the same SQL forever.
CREATE = """
CREATE OR REPLACE FUNCTION accounts_guard_birthdate() RETURNS trigger AS $$
DECLARE
    sanctioned text := current_setting('safety_portal.birthdate_request', true);
BEGIN
    IF NEW.birthdate IS DISTINCT FROM OLD.birthdate THEN
        IF sanctioned IS NULL OR sanctioned !~ '^[0-9]+$' OR NOT EXISTS (
            SELECT 1 FROM accounts_birthdatechangerequest r
            WHERE r.id = sanctioned::bigint
              AND r.user_id = NEW.id
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

CREATE TRIGGER accounts_user_birthdate_guard
    BEFORE UPDATE OF birthdate ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_guard_birthdate();
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_user_birthdate_guard ON accounts_user;
DROP FUNCTION IF EXISTS accounts_guard_birthdate();
"""

# Version 2 (migration 0005): the request must also start from the birthdate being replaced, so an
# old applied request cannot be replayed to set a date back after a later correction.
GUARD_FUNCTION_V2 = """
CREATE OR REPLACE FUNCTION accounts_guard_birthdate() RETURNS trigger AS $$
DECLARE
    sanctioned text := current_setting('safety_portal.birthdate_request', true);
BEGIN
    IF NEW.birthdate IS DISTINCT FROM OLD.birthdate THEN
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

# Going back to version 1 restores its function body; the trigger itself is unchanged.
GUARD_FUNCTION_V1 = CREATE[: CREATE.index("CREATE TRIGGER")]

# Assurance results are append-only (POLICY.md §7.2; migration 0013): the manager only inserts, the
# QuerySet refuses update() and delete(), and the database refuses UPDATE from any path (raw SQL
# included) and DELETE except in the transaction that erases a closed child's account
# (`accounts.erasure`, which sets `safety_portal.erasure` to the user's id; decisions D8, D16).
ASSURANCE_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION accounts_assurance_result_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('safety_portal.erasure', true) = OLD.user_id::text THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'age-assurance result % is append-only: record a new one', OLD.id
        USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_assurance_result_append_only
    BEFORE UPDATE OR DELETE ON accounts_ageassuranceresult
    FOR EACH ROW EXECUTE FUNCTION accounts_assurance_result_append_only();
"""

ASSURANCE_APPEND_ONLY_DROP = """
DROP TRIGGER IF EXISTS accounts_assurance_result_append_only ON accounts_ageassuranceresult;
DROP FUNCTION IF EXISTS accounts_assurance_result_append_only();
"""
