"""PostgreSQL triggers that make the audit log append-only at the database (issue 2).

Row triggers refuse UPDATE and DELETE; a statement trigger refuses TRUNCATE. They fire for every role,
the table owner and superusers included. Stepping around them takes more than table privileges: the
table's owner can `ALTER TABLE ... DISABLE TRIGGER` or drop them, and a superuser can also switch
`session_replication_role` to `replica`. That is exactly what the hash chain and the external anchors
exist to catch, and why production runs the application as a role that neither owns the table nor is
a superuser (docs/decisions.md D3; tests/audit/test_append_only.py proves such a role can append but
not change, delete, truncate or disable).
"""

TABLE = "audit_auditentry"


def _refusal(name: str, when: str, level: str, function: str) -> str:
    """One refusing trigger, `{on}` left for the table it goes on."""
    return (
        f"CREATE TRIGGER {name}\n    BEFORE {when} ON {{on}}\n"
        f"    FOR EACH {level} EXECUTE FUNCTION {function}();\n"
    )


# The refusals the log's tables carry, in the combinations below.
_UPDATE_DELETE = _refusal(
    "audit_refuse_update_delete", "UPDATE OR DELETE", "ROW", "audit_refuse_change"
)
_DELETE = _refusal("audit_refuse_delete", "DELETE", "ROW", "audit_refuse_change")
_UPDATE_UNLESS_LINKING = _refusal(
    "audit_refuse_update", "UPDATE", "ROW", "audit_refuse_update_unless_linking"
)
_TRUNCATE = _refusal("audit_refuse_truncate", "TRUNCATE", "STATEMENT", "audit_refuse_change")

CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on audit_auditentry is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
""" + (_UPDATE_DELETE + _TRUNCATE).format(on=TABLE)

DROP = """
DROP TRIGGER IF EXISTS audit_refuse_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_refuse_update_delete ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""

# Issue 13 (D23): the deferred chainer links an entry after it commits, by setting its chain
# fields once. The update trigger allows exactly that and nothing else: the entry has no chain
# fields yet, all three are set, and every other column is unchanged. A linked entry, or any
# other column, is still refused.
LINK_ONCE_CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_update_unless_linking() RETURNS trigger AS $$
BEGIN
    IF OLD.seq IS NULL AND OLD.hash IS NULL AND OLD.prev_hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'hash' - 'prev_hash')
           = (to_jsonb(OLD) - 'seq' - 'hash' - 'prev_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on audit_auditentry is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_refuse_update_delete ON audit_auditentry;
""" + (_DELETE + _UPDATE_UNLESS_LINKING).format(on=TABLE)

LINK_ONCE_DROP = """
DROP TRIGGER IF EXISTS audit_refuse_update ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_refuse_delete ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_update_unless_linking();
""" + _UPDATE_DELETE.format(on=TABLE)

# Issue 14.5 (D32): the log is partitioned by month. Row triggers on the parent are cloned by
# PostgreSQL to every partition, present and future; a statement trigger is not, so each partition
# gets its own TRUNCATE refusal when it is created (`PER_PARTITION`), and the parent keeps one for
# `TRUNCATE audit_auditentry`. A partition detached for archiving loses the cloned row triggers,
# so the archiver puts them back on it (`DETACHED`) until an operator drops it.
PARENT = (_DELETE + _UPDATE_UNLESS_LINKING + _TRUNCATE).format(on=TABLE)
PER_PARTITION = _TRUNCATE.format(on="{partition}")
DETACHED = _UPDATE_DELETE.format(on="{partition}")

ARCHIVE_CREATE = """
CREATE OR REPLACE FUNCTION audit_archive_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit archive register is append-only: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_archive_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditarchive
    FOR EACH ROW EXECUTE FUNCTION audit_archive_refuse_change();
CREATE TRIGGER audit_archive_refuse_truncate
    BEFORE TRUNCATE ON audit_auditarchive
    FOR EACH STATEMENT EXECUTE FUNCTION audit_archive_refuse_change();
"""

ARCHIVE_DROP = """
DROP TRIGGER IF EXISTS audit_archive_refuse_truncate ON audit_auditarchive;
DROP TRIGGER IF EXISTS audit_archive_refuse_update_delete ON audit_auditarchive;
DROP FUNCTION IF EXISTS audit_archive_refuse_change();
"""
