"""PostgreSQL triggers of the API's tables.

An API client is revoked, never deleted: the audit log names it as the actor of its writes, and
report receipts name it without a foreign key (moderation/triggers.py, D38), so a reference once
valid must stay valid. The admin already offers no delete; this refuses it on every path
(`QuerySet.delete()`, raw SQL). TRUNCATE, which only the test suite's flush uses, fires no row
trigger.
"""

NEVER_DELETED = """
CREATE OR REPLACE FUNCTION integrations_refuse_client_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'API clients are revoked, never deleted (client %)', OLD.id
        USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER integrations_apiclient_never_deleted
    BEFORE DELETE ON integrations_apiclient
    FOR EACH ROW EXECUTE FUNCTION integrations_refuse_client_delete();
"""

NEVER_DELETED_DROP = """
DROP TRIGGER IF EXISTS integrations_apiclient_never_deleted ON integrations_apiclient;
DROP FUNCTION IF EXISTS integrations_refuse_client_delete();
"""
