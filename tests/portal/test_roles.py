"""Roles are Django groups with exact permissions, changed only through accounts.roles (audited)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts import roles
from accounts.roles import ROLE_PERMISSIONS, Role, grant_role, revoke_role, sync_roles
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, NotPermitted
from tests.factories.accounts import AppUserFactory, StaffFactory

from .scenario import ACTOR

pytestmark = pytest.mark.django_db


def _perms(group: Group) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_every_role_group_holds_exactly_the_permissions_of_the_table() -> None:
    for role, wanted in ROLE_PERMISSIONS.items():
        assert _perms(Group.objects.get(name=role.value)) == set(wanted), role


def test_every_permission_the_table_names_exists_after_migrate() -> None:
    assert sync_roles()["missing"] == []


def test_sync_roles_puts_back_a_permission_added_to_a_group_by_hand() -> None:
    group = Group.objects.get(name=Role.TRIAGE.value)
    extra = Permission.objects.get(codename="decide_case")
    with roles._sanctioned_change():
        group.permissions.add(extra)
    assert sync_roles()["changed"] == [Role.TRIAGE.value]
    assert "moderation.decide_case" not in _perms(group)


def test_only_seniors_see_exact_birthdates_and_auditors_read_no_message_bodies() -> None:
    holders = {
        r for r, perms in ROLE_PERMISSIONS.items() if "moderation.view_exact_birthdate" in perms
    }
    assert holders == {Role.SENIOR_MODERATOR}
    assert "messaging.read_message_body" not in ROLE_PERMISSIONS[Role.AUDITOR]
    assert "moderation.decide_case" not in ROLE_PERMISSIONS[Role.TRIAGE]


def test_granting_a_role_is_audited_in_the_same_transaction() -> None:
    user = StaffFactory(username="newbie")
    assert grant_role(user, Role.MODERATOR, actor=ACTOR, reason="joined the team") is True
    entry = AuditEntry.objects.filter(action="accounts.roles.granted").latest("seq")
    assert entry.target_id == str(user.pk)
    assert entry.after == {"roles": ["Moderator"]}
    assert entry.reason == "joined the team"
    assert user.has_perm("moderation.decide_case")


def test_granting_a_role_twice_changes_nothing_and_writes_nothing() -> None:
    user = StaffFactory(username="twice")
    grant_role(user, Role.AUDITOR, actor=ACTOR)
    before = AuditEntry.objects.count()
    assert grant_role(user, Role.AUDITOR, actor=ACTOR) is False
    assert AuditEntry.objects.count() == before


def test_revoking_a_role_removes_its_permissions_and_is_audited() -> None:
    user = StaffFactory(username="leaver")
    grant_role(user, Role.SENIOR_MODERATOR, actor=ACTOR)
    assert revoke_role(user, Role.SENIOR_MODERATOR, actor=ACTOR, reason="left") is True
    assert not user.has_perm("moderation.take_over_case")
    entry = AuditEntry.objects.filter(action="accounts.roles.revoked").latest("seq")
    assert entry.before == {"roles": ["Senior moderator"]}
    assert entry.after == {"roles": []}


def test_groups_changed_outside_roles_py_are_refused() -> None:
    user = StaffFactory(username="sneaky")
    group = Group.objects.get(name=Role.ADMINISTRATOR.value)
    permission = Permission.objects.get(codename="manage_roles")
    attempts = [
        lambda: user.groups.add(group),
        lambda: group.user_set.add(user),
        lambda: user.groups.set([group]),
        lambda: user.user_permissions.add(permission),
        lambda: group.permissions.add(Permission.objects.get(codename="decide_case")),
    ]
    for attempt in attempts:
        with pytest.raises(roles.RoleChangeRefused), transaction.atomic():
            attempt()
    assert not user.groups.exists()
    assert not user.user_permissions.exists()


def test_an_administrator_grants_roles_but_not_to_themselves() -> None:
    admin = StaffFactory(username="boss")
    grant_role(admin, Role.ADMINISTRATOR, actor=ACTOR)
    other = StaffFactory(username="worker")
    grant_role(other, Role.TRIAGE, actor=admin)
    assert other.groups.filter(name="Triage").exists()
    with pytest.raises(NotPermitted):
        grant_role(admin, Role.SENIOR_MODERATOR, actor=admin)


def test_a_moderator_cannot_grant_roles() -> None:
    moderator = StaffFactory(username="mod")
    grant_role(moderator, Role.MODERATOR, actor=ACTOR)
    other = StaffFactory(username="friend")
    with pytest.raises(NotPermitted):
        grant_role(other, Role.SENIOR_MODERATOR, actor=moderator)
    assert not other.groups.exists()


def test_app_users_cannot_hold_roles() -> None:
    with pytest.raises(DomainError) as refused:
        grant_role(AppUserFactory(age=30), Role.TRIAGE, actor=ACTOR)
    assert refused.value.fields == {"user": ["not staff"]}


def test_an_unknown_role_is_a_field_error() -> None:
    with pytest.raises(DomainError) as refused:
        grant_role(StaffFactory(username="x1"), "Overlord", actor=ACTOR)
    assert "role" in refused.value.fields


def test_set_roles_writes_one_entry_per_change() -> None:
    user = StaffFactory(username="shuffle")
    grant_role(user, Role.TRIAGE, actor=ACTOR)
    before = AuditEntry.objects.count()
    roles.set_roles(user, [Role.MODERATOR, Role.AUDITOR], actor=ACTOR, reason="promotion")
    assert [r.value for r in roles.roles_of(user)] == ["Moderator", "Auditor"]
    assert AuditEntry.objects.count() == before + 3


def test_grant_role_recreates_a_missing_group_exactly() -> None:
    Group.objects.filter(name=Role.AUDITOR.value).delete()
    user = StaffFactory(username="after_flush")
    grant_role(user, Role.AUDITOR, actor=ACTOR)
    assert _perms(Group.objects.get(name=Role.AUDITOR.value)) == set(ROLE_PERMISSIONS[Role.AUDITOR])
