"""The log cannot be edited: the model, its QuerySets and the database all refuse (issue 2)."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from safety_portal.core.audit.models import AuditEntry

from .conftest import write_entries

pytestmark = pytest.mark.django_db


def _unchanged(entry: AuditEntry) -> bool:
    stored = AuditEntry.objects.get(pk=entry.pk)
    return (stored.reason, stored.seq, stored.hash) == (entry.reason, entry.seq, entry.hash)


def test_saving_an_existing_entry_is_refused() -> None:
    [entry] = write_entries(1)
    stored = AuditEntry.objects.get(pk=entry.pk)
    stored.reason = "rewritten"

    with pytest.raises(PermissionError, match="cannot be changed"):
        stored.save()
    with pytest.raises(PermissionError, match="cannot be changed"):
        stored.save(update_fields=["reason"])
    assert _unchanged(entry)


def test_creating_an_entry_other_than_through_record_is_refused() -> None:
    [entry] = write_entries(1)
    fields = {
        f.name: getattr(entry, f.name) for f in AuditEntry._meta.concrete_fields if f.name != "id"
    }
    fields.update(seq=2, prev_hash=entry.hash, hash="f" * 64)

    with pytest.raises(PermissionError, match="record"):
        AuditEntry(**fields).save()
    with pytest.raises(PermissionError, match="record"):
        AuditEntry.objects.create(**fields)
    with pytest.raises(PermissionError, match="record"):
        AuditEntry.objects.bulk_create([AuditEntry(**fields)])
    assert AuditEntry.objects.count() == 1


def test_deleting_an_entry_is_refused() -> None:
    [entry] = write_entries(1)

    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditEntry.objects.get(pk=entry.pk).delete()
    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert _unchanged(entry)


def test_queryset_update_and_bulk_update_are_refused_on_every_manager() -> None:
    [entry] = write_entries(1)
    stored = AuditEntry.objects.get(pk=entry.pk)
    stored.reason = "rewritten"

    with pytest.raises(PermissionError, match="cannot be changed"):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(PermissionError, match="cannot be changed"):
        AuditEntry.objects.bulk_update([stored], ["reason"])
    # Django's internal paths use the base manager; it refuses too.
    with pytest.raises(PermissionError, match="cannot be changed"):
        AuditEntry._base_manager.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(PermissionError, match="cannot be deleted"):
        AuditEntry._base_manager.all().delete()
    assert _unchanged(entry)


def _execute(sql: str, params: list[object] | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refused_by_trigger(sql: str, params: list[object] | None = None) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught:
        _execute(sql, params)
    assert "append-only" in str(caught.value)
    assert caught.value.__cause__.sqlstate == "42501"  # insufficient_privilege, from the trigger
    return caught.value


def test_the_database_refuses_update_delete_and_truncate_even_from_the_superuser() -> None:
    [entry] = write_entries(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0], "this test is about the superuser"

    _refused_by_trigger(
        "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [entry.pk]
    )
    _refused_by_trigger("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    _refused_by_trigger("TRUNCATE audit_auditentry")
    assert _unchanged(entry)


def test_a_role_that_owns_nothing_can_append_but_not_update_delete_truncate_or_disable() -> None:
    from safety_portal.core import audit
    from safety_portal.core.audit.actors import SystemActor

    [entry] = write_entries(1)
    # Created inside the test's transaction, gone at its rollback; roles are cluster-wide.
    role = f"sp_audit_probe_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON audit_auditentry TO {role}"
        )
        cursor.execute(f"GRANT USAGE ON SEQUENCE audit_auditentry_id_seq TO {role}")
        cursor.execute(f"SET ROLE {role}")
    try:
        # Privileges granted, yet the triggers still refuse every change.
        _refused_by_trigger("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
        _refused_by_trigger("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
        _refused_by_trigger("TRUNCATE audit_auditentry")
        # And the role cannot step around them: only the owner or a superuser could.
        for bypass, message in [
            ("ALTER TABLE audit_auditentry DISABLE TRIGGER ALL", "must be owner"),
            ("SET session_replication_role = replica", "permission denied"),
        ]:
            with pytest.raises(DatabaseError, match=message):
                _execute(bypass)
        # Appending, the one thing the application does, still works under this role.
        with transaction.atomic():
            appended = audit.record(actor=SystemActor("tests.role"), action="tests.role.appended")
        assert appended.seq == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert _unchanged(entry)
