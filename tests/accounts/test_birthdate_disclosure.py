"""Exact birthdates: seniors only, with a reason, each view audited without the date itself."""

from __future__ import annotations

import json

import pytest

from accounts.models import BirthdateChangeRequest, User
from accounts.roles import Role
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, NotPermitted
from safety_portal.portal import disclosure
from tests.factories.accounts import AppUserFactory, StaffFactory, birthdate_for_age

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def senior() -> User:
    return StaffFactory(roles=[Role.SENIOR_MODERATOR])


def _views(user: User) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            action="accounts.birthdate.viewed", target_id=str(user.pk)
        ).order_by("id")
    )


def _dates_in(entry: AuditEntry, *dates: object) -> list[str]:
    text = json.dumps([entry.reason, entry.before, entry.after, entry.target_label])
    return [str(d) for d in dates if str(d) in text]


@pytest.mark.parametrize("age", [15, 35])
def test_a_senior_sees_the_exact_birthdate_and_the_entry_holds_no_date(
    senior: User, age: int
) -> None:
    person = AppUserFactory(birthdate=birthdate_for_age(age), country="GB")
    seen = User.objects.reveal_birthdate(person, actor=senior, reason="age appeal #12")
    assert seen == person.birthdate
    [entry] = _views(person)
    assert (entry.actor_id, entry.reason) == (str(senior.pk), "age appeal #12")
    assert _dates_in(entry, person.birthdate, person.birthdate.isoformat()) == []


@pytest.mark.parametrize("role", [Role.TRIAGE, Role.MODERATOR, Role.AUDITOR, Role.ADMINISTRATOR])
def test_other_roles_are_refused_and_nothing_is_recorded(role: Role) -> None:
    person = AppUserFactory(birthdate=birthdate_for_age(16), country="GB")
    with pytest.raises(NotPermitted):
        User.objects.reveal_birthdate(person, actor=StaffFactory(roles=[role]), reason="curious")
    assert _views(person) == []


def test_a_reason_is_required(senior: User) -> None:
    person = AppUserFactory(birthdate=birthdate_for_age(16), country="GB")
    with pytest.raises(DomainError) as refused:
        User.objects.reveal_birthdate(person, actor=senior, reason="   ")
    assert "reason" in refused.value.fields
    assert _views(person) == []


def test_the_portal_reads_through_the_managers_one_door(senior: User) -> None:
    person = AppUserFactory(birthdate=birthdate_for_age(30), country="GB")
    assert disclosure.reveal_birthdate(person, actor=senior, reason="r") == person.birthdate
    request = BirthdateChangeRequest.objects.submit(
        user=person,
        new_birthdate=birthdate_for_age(40),
        method="id_document",
        evidence_reference="ev-1",
        reason="typo at sign-up",
        actor=person,
    )
    old, new = disclosure.reveal_request_dates(request, actor=senior, reason="reviewing")
    assert (old, new) == (request.old_birthdate, request.new_birthdate)
    entries = _views(person)
    assert [e.reason for e in entries] == ["r", "reviewing"]
    assert entries[1].after == {"birthdate_request": request.pk}
    assert all(_dates_in(e, old, new) == [] for e in entries)
