"""PostgreSQL triggers: a decision and its statement of reasons are never edited in place.

Issue 5: the admin cannot edit a decision in place; POLICY.md §6: a statement of reasons, once
made, is what was published. The services only ever write a decision's bookkeeping columns after
creating it (the strike count, the notice and appeal times, the overturn time, which is set once);
everything that says *what was decided* is refused by the database on UPDATE, and DELETE is refused
outright — whatever path the write takes (`QuerySet.update()`, an admin form, raw SQL).
"""

CREATE = """
CREATE OR REPLACE FUNCTION moderation_guard_decision() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'moderation decisions are never deleted (decision %)', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF (NEW.public_id, NEW.case_id, NEW.type, NEW.target_user_id, NEW.decided_by_id, NEW.ground,
        NEW.category, NEW.keywords, NEW.explanation, NEW.facts, NEW.feature, NEW.starts_at,
        NEW.ends_at, NEW.decided_at)
       IS DISTINCT FROM
       (OLD.public_id, OLD.case_id, OLD.type, OLD.target_user_id, OLD.decided_by_id, OLD.ground,
        OLD.category, OLD.keywords, OLD.explanation, OLD.facts, OLD.feature, OLD.starts_at,
        OLD.ends_at, OLD.decided_at) THEN
        RAISE EXCEPTION 'decision % is never edited in place; an appeal overturns it', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.overturned_at IS NOT NULL AND NEW.overturned_at IS DISTINCT FROM OLD.overturned_at THEN
        RAISE EXCEPTION 'decision % was overturned once; that is final', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER moderation_decision_guard
    BEFORE UPDATE OR DELETE ON moderation_decision
    FOR EACH ROW EXECUTE FUNCTION moderation_guard_decision();

CREATE OR REPLACE FUNCTION moderation_guard_statement() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'statements of reasons are never changed or deleted (statement %)', OLD.id
        USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER moderation_statement_guard
    BEFORE UPDATE OR DELETE ON moderation_statementofreasons
    FOR EACH ROW EXECUTE FUNCTION moderation_guard_statement();
"""

DROP = """
DROP TRIGGER IF EXISTS moderation_statement_guard ON moderation_statementofreasons;
DROP FUNCTION IF EXISTS moderation_guard_statement();
DROP TRIGGER IF EXISTS moderation_decision_guard ON moderation_decision;
DROP FUNCTION IF EXISTS moderation_guard_decision();
"""

# Issue 14.5 (D33): messages are range-partitioned by month, and PostgreSQL accepts a foreign key
# into a partitioned table only if it names the partition key too. Reports and cases keep their
# Django foreign key to the message (`db_constraint=False`: the ORM joins are unchanged) and this
# constraint trigger puts the database's refusal back: a report or case naming a message that does
# not exist is refused, with SQLSTATE 23503 (foreign_key_violation) and the trigger's name as the
# constraint, when the transaction commits, as the DEFERRABLE INITIALLY DEFERRED foreign key that
# Django made did. The other half of a foreign key, refusing to delete a message that is named, is
# messaging's: a message is never deleted, truncated or renumbered (messaging/triggers.py), so a
# reference once valid stays valid and no row lock on the message is needed.
SUBJECT_MESSAGE_EXISTS = """
CREATE OR REPLACE FUNCTION moderation_refuse_unknown_message() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM messaging_message m WHERE m.id = NEW.subject_message_id) THEN
        RAISE EXCEPTION '% %: message % does not exist', TG_TABLE_NAME, NEW.id, NEW.subject_message_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_NAME;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER moderation_case_subject_message_exists
    AFTER INSERT OR UPDATE OF subject_message_id ON moderation_case
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.subject_message_id IS NOT NULL)
    EXECUTE FUNCTION moderation_refuse_unknown_message();

CREATE CONSTRAINT TRIGGER moderation_report_subject_message_exists
    AFTER INSERT OR UPDATE OF subject_message_id ON moderation_report
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.subject_message_id IS NOT NULL)
    EXECUTE FUNCTION moderation_refuse_unknown_message();
"""

SUBJECT_MESSAGE_EXISTS_DROP = """
DROP TRIGGER IF EXISTS moderation_report_subject_message_exists ON moderation_report;
DROP TRIGGER IF EXISTS moderation_case_subject_message_exists ON moderation_case;
DROP FUNCTION IF EXISTS moderation_refuse_unknown_message();
"""

# D38: a report receipt names its API client without a foreign key. A foreign key's check takes a
# KEY SHARE lock on the client's row, and every receipt of one busy client locks the same row:
# with four concurrent writers that turned the row into a multixact and cost a fifth of the
# receipts' throughput (measured, docs/decisions.md D38). This constraint trigger refuses a
# receipt naming a client that does not exist, at commit, with SQLSTATE 23503, as the foreign key
# did; no lock is needed because a client is never deleted (safety_portal/core/api/triggers.py).
RECEIPT_CLIENT_EXISTS = """
CREATE OR REPLACE FUNCTION moderation_refuse_unknown_receipt_client() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM integrations_apiclient c WHERE c.id = NEW.client_id) THEN
        RAISE EXCEPTION 'report receipt %: API client % does not exist', NEW.id, NEW.client_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_NAME;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER moderation_reportreceipt_client_exists
    AFTER INSERT OR UPDATE OF client_id ON moderation_reportreceipt
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION moderation_refuse_unknown_receipt_client();
"""

RECEIPT_CLIENT_EXISTS_DROP = """
DROP TRIGGER IF EXISTS moderation_reportreceipt_client_exists ON moderation_reportreceipt;
DROP FUNCTION IF EXISTS moderation_refuse_unknown_receipt_client();
"""
