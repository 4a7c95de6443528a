"""The admin: the Administrator's workbench, with every save through the audited doors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role, roles_of
from safety_portal.core.api.models import ApiClient
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory

from .scenario import Day

pytestmark = pytest.mark.django_db


def test_an_administrator_changes_roles_through_roles_py_and_each_change_is_audited(
    day: Day, as_role
) -> None:
    client = as_role(Role.ADMINISTRATOR)
    triage = day.staff[Role.TRIAGE]
    url = reverse("admin:accounts_user_change", args=[triage.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"roles": ["Moderator"], "reason": "promoted after training"})
    assert response.status_code == 302
    assert [r.value for r in roles_of(triage)] == ["Moderator"]
    actions = list(
        AuditEntry.objects.filter(target_id=str(triage.pk), action__startswith="accounts.roles")
        .order_by("id")
        .values_list("action", "reason")
    )
    assert actions[-2:] == [
        ("accounts.roles.revoked", "promoted after training"),
        ("accounts.roles.granted", "promoted after training"),
    ]


def test_a_role_change_needs_a_reason(day: Day, as_role) -> None:
    client = as_role(Role.ADMINISTRATOR)
    triage = day.staff[Role.TRIAGE]
    response = client.post(
        reverse("admin:accounts_user_change", args=[triage.pk]), {"roles": ["Administrator"]}
    )
    assert response.status_code == 200  # the form again, with the error
    assert [r.value for r in roles_of(triage)] == ["Triage"]


def test_an_administrator_cannot_change_their_own_roles(day: Day, as_role) -> None:
    client = as_role(Role.ADMINISTRATOR)
    me = day.staff[Role.ADMINISTRATOR]
    client.post(
        reverse("admin:accounts_user_change", args=[me.pk]),
        {"roles": ["Administrator", "Senior moderator"], "reason": "why not"},
    )
    assert [r.value for r in roles_of(me)] == ["Administrator"]


def test_new_staff_are_created_by_the_manager_with_their_roles(day: Day, as_role) -> None:
    client = as_role(Role.ADMINISTRATOR)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "new_moderator",
            "email": "new@example.org",
            "password1": "a long and unusual passphrase 42",
            "password2": "a long and unusual passphrase 42",
            "roles": ["Moderator"],
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new_moderator")
    assert user.is_staff
    assert [r.value for r in roles_of(user)] == ["Moderator"]
    assert AuditEntry.objects.filter(
        action="accounts.staff.created", target_id=str(user.pk)
    ).exists()


def test_app_users_are_read_only_and_nothing_is_deleted_from_the_admin(day: Day, as_role) -> None:
    client = as_role(Role.ADMINISTRATOR)
    url = reverse("admin:accounts_user_change", args=[day.minor.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="birthdate"' not in page.content
    assert day.minor.birthdate.isoformat().encode() not in page.content
    before = AuditEntry.objects.count()
    assert client.post(url, {"status": "banned", "birthdate": "2001-01-01"}).status_code == 403
    day.minor.refresh_from_db()
    assert day.minor.status == "active"
    assert AuditEntry.objects.count() == before
    delete = reverse("admin:accounts_user_delete", args=[day.minor.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_resetting_a_second_factor_needs_a_reason_and_is_audited(day: Day, as_role) -> None:
    client = as_role(Role.ADMINISTRATOR)
    target = day.staff[Role.TRIAGE]
    url = reverse("admin:accounts_user_reset_2fa", args=[target.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    client.post(url, {"reason": "lost phone, ticket IT-77"})
    entry = AuditEntry.objects.filter(action="accounts.two_factor.reset").latest("id")
    assert entry.target_id == str(target.pk)
    assert entry.reason == "lost phone, ticket IT-77"


def test_an_api_client_is_created_through_its_manager_and_the_token_shown_once(
    day: Day, as_role
) -> None:
    client = as_role(Role.ADMINISTRATOR)
    response = client.post(
        reverse("admin:integrations_apiclient_add"),
        {"name": "reports-ingest", "scopes": ["reports:write"], "throttle_rate": ""},
    )
    assert response.status_code == 200
    token = response.context["token"]
    api_client = ApiClient.objects.get(name="reports-ingest")
    assert ApiClient.objects.authenticate(token) == api_client
    entry = AuditEntry.objects.get(action="integrations.api_client.created")
    assert token not in str(entry.after)
    change = client.get(reverse("admin:integrations_apiclient_change", args=[api_client.pk]))
    assert token.encode() not in change.content


def test_moderators_have_no_admin(day: Day, as_role) -> None:
    for role in (Role.TRIAGE, Role.MODERATOR, Role.SENIOR_MODERATOR, Role.AUDITOR):
        response = as_role(role).get(reverse("admin:index"))
        assert response.status_code == 302, role


def test_the_user_changelist_never_counts_the_whole_table(day: Day, as_role) -> None:
    AppUserFactory.create_batch(5)
    client = as_role(Role.ADMINISTRATOR)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    user_table = User._meta.db_table
    full_counts = [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper()
        and user_table in q["sql"]
        and "LIMIT" not in q["sql"].upper()
    ]
    assert full_counts == []
