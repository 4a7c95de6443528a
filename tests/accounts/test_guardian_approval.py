"""A 13-15-year-old's loosenings and a linked guardian's approval (POLICY.md §7.4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import GuardianLink, SafetySettings, User
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, PolicyViolation
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db


def link(guardian: User, teen: User) -> GuardianLink:
    proposed = GuardianLink.objects.propose(guardian=guardian, teen=teen, actor=guardian)
    return GuardianLink.objects.consent(proposed, actor=teen)


def settings_of(user: User) -> SafetySettings:
    return SafetySettings.objects.get(user=user)


def test_account_private_a_14_year_old_without_a_guardian_cannot_make_the_account_public(
    teen: User,
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        SafetySettings.objects.change(teen, actor=teen, private_account=False)
    assert refused.value.code == "setting_needs_guardian"
    assert settings_of(teen).private_account is True


def test_account_private_a_14_year_old_goes_public_with_the_linked_guardians_approval(
    teen: User, adult: User, audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    link(adult, teen)
    with pytest.raises(PolicyViolation):
        SafetySettings.objects.change(teen, actor=teen, private_account=False)

    SafetySettings.objects.change(
        teen, actor=teen, guardian_approved_by=adult, private_account=False
    )

    row = settings_of(teen)
    assert row.private_account is False
    assert row.guardian_approved_public_at is not None
    entry = audit_entries("accounts.settings.changed")[-1]
    assert entry.after == {"private_account": False}
    assert f"linked guardian {adult.pk}" in entry.reason


def test_going_private_again_clears_the_guardians_approval_mark(teen: User, adult: User) -> None:
    link(adult, teen)
    SafetySettings.objects.change(
        teen, actor=teen, guardian_approved_by=adult, private_account=False
    )
    SafetySettings.objects.change(teen, actor=teen, private_account=True)
    assert settings_of(teen).guardian_approved_public_at is None


def test_loosen_a_setting_a_linked_14_year_old_needs_the_guardian_for_any_loosening(
    teen: User, adult: User
) -> None:
    SafetySettings.objects.change(teen, actor=teen, comment_setting="nobody")
    link(adult, teen)
    with pytest.raises(PolicyViolation) as refused:
        SafetySettings.objects.change(teen, actor=teen, comment_setting="friends")
    assert refused.value.code == "setting_needs_guardian"
    # Tightening needs nobody's approval.
    SafetySettings.objects.change(teen, actor=teen, comment_setting="nobody")
    SafetySettings.objects.change(
        teen, actor=teen, guardian_approved_by=adult.pk, comment_setting="friends"
    )
    assert settings_of(teen).comment_setting == "friends"


def test_an_approval_by_someone_who_is_not_the_linked_guardian_is_bad_input(
    teen: User, adult: User
) -> None:
    link(adult, teen)
    stranger = AppUserFactory(age=45, username="not_the_parent")
    with pytest.raises(DomainError) as refused:
        SafetySettings.objects.change(
            teen, actor=teen, guardian_approved_by=stranger, private_account=False
        )
    assert "guardian_approved_by" in refused.value.fields
    assert settings_of(teen).private_account is True


def test_an_ended_link_approves_nothing(teen: User, adult: User) -> None:
    active = link(adult, teen)
    GuardianLink.objects.end(active, actor=adult, reason="Family pairing ended.")
    with pytest.raises(DomainError):
        SafetySettings.objects.change(
            teen, actor=teen, guardian_approved_by=adult, private_account=False
        )


def test_loosen_a_setting_16_17_choose_for_themselves_even_with_a_guardian(
    older_teen: User, adult: User
) -> None:
    link(adult, older_teen)
    SafetySettings.objects.change(older_teen, actor=older_teen, dm_setting="friends")
    assert settings_of(older_teen).dm_setting == "friends"
