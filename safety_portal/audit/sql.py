"""PostgreSQL triggers that make the audit log append-only at the database (issue 2).

Row triggers refuse UPDATE and DELETE; a statement trigger refuses TRUNCATE. They hold for every role,
the table owner included. Only a superuser can step around them (by disabling triggers or switching
`session_replication_role`), which is exactly what the hash chain and the external anchors exist to
catch. Production runs the app under a non-superuser role (docs/decisions.md).
"""

CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on audit_auditentry is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE TRIGGER audit_refuse_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_refuse_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_refuse_update_delete ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""
