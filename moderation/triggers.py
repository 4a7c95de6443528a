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
