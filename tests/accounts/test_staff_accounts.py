"""Staff accounts: deactivation, reactivation and passwords through the Administrator's doors."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from accounts.roles import Role
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, NotPermitted
from tests.factories.accounts import AppUserFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-kettle-harbour-91"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user() -> User:
    return StaffFactory(roles=[Role.ADMINISTRATOR])


@pytest.fixture
def moderator() -> User:
    return StaffFactory(roles=[Role.MODERATOR])


def _entries(action: str, target: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, target_id=str(target.pk)).order_by("id"))


def test_an_administrator_deactivates_and_reactivates_staff_with_an_audited_reason(
    admin_user: User, moderator: User
) -> None:
    User.objects.set_staff_active(moderator, False, actor=admin_user, reason="left the team")
    assert User.objects.get(pk=moderator.pk).is_active is False
    User.objects.set_staff_active(moderator, True, actor=admin_user, reason="came back")
    assert User.objects.get(pk=moderator.pk).is_active is True
    [off] = _entries("accounts.staff.deactivated", moderator)
    [on] = _entries("accounts.staff.reactivated", moderator)
    assert (off.reason, off.before, off.after) == (
        "left the team",
        {"is_active": True},
        {"is_active": False},
    )
    assert off.actor_id == str(admin_user.pk)
    assert on.reason == "came back"


def test_asking_for_the_state_an_account_already_has_writes_nothing(
    admin_user: User, moderator: User
) -> None:
    before = AuditEntry.objects.count()
    User.objects.set_staff_active(moderator, True, actor=admin_user, reason="already active")
    assert AuditEntry.objects.count() == before


def test_nobody_deactivates_their_own_account(admin_user: User) -> None:
    with pytest.raises(NotPermitted):
        User.objects.set_staff_active(admin_user, False, actor=admin_user, reason="oops")
    assert User.objects.get(pk=admin_user.pk).is_active is True


@pytest.mark.parametrize(
    "actor_role", [Role.TRIAGE, Role.MODERATOR, Role.SENIOR_MODERATOR, Role.AUDITOR]
)
def test_only_an_administrator_manages_staff_accounts(actor_role: Role, moderator: User) -> None:
    actor = StaffFactory(roles=[actor_role])
    with pytest.raises(NotPermitted):
        User.objects.set_staff_active(moderator, False, actor=actor, reason="no")
    with pytest.raises(NotPermitted):
        User.objects.change_staff_password(moderator, actor=actor, new_password=NEW_PASSWORD)
    fresh = User.objects.get(pk=moderator.pk)
    assert fresh.is_active
    assert fresh.check_password("correct horse battery staple")


def test_a_system_job_or_a_deactivated_administrator_is_refused(
    admin_user: User, moderator: User
) -> None:
    with pytest.raises(NotPermitted):
        User.objects.set_staff_active(moderator, False, actor=SystemActor("job"), reason="x")
    other_admin = StaffFactory(roles=[Role.ADMINISTRATOR])
    User.objects.set_staff_active(other_admin, False, actor=admin_user, reason="left")
    other_admin.refresh_from_db()
    with pytest.raises(NotPermitted):
        User.objects.set_staff_active(moderator, False, actor=other_admin, reason="x")


def test_a_reason_is_required_and_app_users_are_not_staff(admin_user: User) -> None:
    staff = StaffFactory()
    with pytest.raises(DomainError) as no_reason:
        User.objects.set_staff_active(staff, False, actor=admin_user, reason="  ")
    assert "reason" in no_reason.value.fields
    app_user = AppUserFactory(age=30)
    with pytest.raises(DomainError) as not_staff:
        User.objects.set_staff_active(app_user, False, actor=admin_user, reason="spam")
    assert "user" in not_staff.value.fields
    assert User.objects.get(pk=app_user.pk).is_active is True


def test_an_administrator_changes_a_password_and_the_log_never_holds_it(
    admin_user: User, moderator: User
) -> None:
    User.objects.change_staff_password(moderator, actor=admin_user, new_password=NEW_PASSWORD)
    fresh = User.objects.get(pk=moderator.pk)
    assert fresh.check_password(NEW_PASSWORD)
    [entry] = _entries("accounts.staff.password_changed", moderator)
    assert entry.after == {"password": "[redacted]"}
    stored = json.dumps([entry.reason, entry.before, entry.after, entry.target_label])
    assert NEW_PASSWORD not in stored
    assert fresh.password not in stored


@pytest.mark.parametrize("weak", ["short1", "password1234", "12345678901234"])
def test_a_weak_password_is_refused_with_the_validators_messages(
    admin_user: User, moderator: User, weak: str
) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError) as refused:
        User.objects.change_staff_password(moderator, actor=admin_user, new_password=weak)
    assert refused.value.fields["new_password"]
    assert User.objects.get(pk=moderator.pk).check_password("correct horse battery staple")
    assert AuditEntry.objects.count() == before
