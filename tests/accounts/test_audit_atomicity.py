"""Every accounts change writes exactly one audit entry, in the same transaction (issue 2, audit log).

A failure after the change inside the caller's atomic block leaves neither the change nor the entry;
a failing receiver or audit write rolls the change back. (A younger birthdate that drops below the
minimum age is two changes, age data and status, and writes two entries; see
test_birthdate_requests.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction

from accounts.events import status_changed
from accounts.models import BirthdateChangeRequest, GuardianLink, SafetySettings, User
from safety_portal.core import audit
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError
from safety_portal.rules.guardianship import GuardianLimits
from tests.factories.accounts import AppUserFactory, birthdate_for_age

pytestmark = pytest.mark.django_db


@dataclass
class Cast:
    teen: User
    parent: User
    actor: object


@pytest.fixture
def cast(system: object) -> Cast:
    return Cast(
        teen=AppUserFactory(age=16, username="cast_teen"),
        parent=AppUserFactory(age=45, username="cast_parent"),
        actor=system,
    )


def _active_link(c: Cast) -> GuardianLink:
    link = GuardianLink.objects.propose(guardian=c.parent, teen=c.teen, actor=c.parent)
    return GuardianLink.objects.consent(link, actor=c.teen)


# Each change: (set-up returning a context, the change, the expected action, an observable state).
@dataclass
class Change:
    action: str
    run: Callable[[Cast], object]
    state: Callable[[Cast], object]
    prepare: Callable[[Cast], object] = lambda c: None


CHANGES = {
    "status": Change(
        "accounts.status.changed",
        lambda c: User.objects.change_status(c.teen, "restricted", actor=c.actor, reason="spam"),
        lambda c: User.objects.get(pk=c.teen.pk).status,
    ),
    "settings": Change(
        "accounts.settings.changed",
        lambda c: SafetySettings.objects.change(c.teen, actor=c.teen, dm_setting="friends"),
        lambda c: SafetySettings.objects.get(user=c.teen).dm_setting,
    ),
    "birthdate": Change(
        "accounts.birthdate.change_applied",
        lambda c: BirthdateChangeRequest.objects.submit(
            user=c.teen,
            new_birthdate=birthdate_for_age(14),
            method="self_declared",
            evidence_reference="",
            reason="Younger than declared.",
            actor=c.actor,
        ),
        lambda c: (
            User.objects.get(pk=c.teen.pk).birthdate,
            BirthdateChangeRequest.objects.count(),
        ),
    ),
    "birthdate request": Change(
        "accounts.birthdate.change_requested",
        lambda c: BirthdateChangeRequest.objects.submit(
            user=c.teen,
            new_birthdate=birthdate_for_age(19),
            method="id_document",
            evidence_reference="idv:77",
            reason="Older, with ID.",
            actor=c.teen,
        ),
        lambda c: BirthdateChangeRequest.objects.count(),
    ),
    "guardian proposal": Change(
        "accounts.guardian.proposed",
        lambda c: GuardianLink.objects.propose(guardian=c.parent, teen=c.teen, actor=c.parent),
        lambda c: GuardianLink.objects.count(),
    ),
    "guardian limits": Change(
        "accounts.guardian.limits_changed",
        lambda c: GuardianLink.objects.set_limits(
            GuardianLink.objects.get(), actor=c.parent, limits=GuardianLimits(dm_off=True)
        ),
        lambda c: GuardianLink.objects.get().dm_off,
        prepare=_active_link,
    ),
    "guardian end": Change(
        "accounts.guardian.ended",
        lambda c: GuardianLink.objects.end(GuardianLink.objects.get(), actor=c.teen, reason="bye"),
        lambda c: GuardianLink.objects.get().status,
        prepare=_active_link,
    ),
}


class Boom(Exception):
    pass


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_writes_exactly_one_audit_entry(cast: Cast, name: str) -> None:
    change = CHANGES[name]
    change.prepare(cast)
    last_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    change.run(cast)

    # Other apps may react to the change with entries of their own (messaging locks threads).
    new = AuditEntry.objects.filter(id__gt=last_id, action__startswith="accounts.").order_by("id")
    assert [e.action for e in new] == [change.action]


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_failure_after_the_change_leaves_neither_change_nor_entry(cast: Cast, name: str) -> None:
    change = CHANGES[name]
    change.prepare(cast)
    state, entries = change.state(cast), AuditEntry.objects.count()

    def change_then_fail() -> None:
        with transaction.atomic():
            change.run(cast)
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()

    assert change.state(cast) == state
    assert AuditEntry.objects.count() == entries


def test_a_failing_receiver_rolls_the_status_change_and_its_entry_back(cast: Cast) -> None:
    def refuse(**kwargs: object) -> None:
        raise Boom

    entries = AuditEntry.objects.count()
    status_changed.connect(refuse, dispatch_uid="tests.accounts.refuse")
    try:
        with pytest.raises(Boom):
            User.objects.change_status(cast.teen, "suspended", actor=cast.actor, reason="test")
    finally:
        status_changed.disconnect(dispatch_uid="tests.accounts.refuse")

    assert User.objects.get(pk=cast.teen.pk).status == "active"
    assert AuditEntry.objects.count() == entries


def test_a_failing_audit_write_rolls_the_change_back(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_record(**kwargs: object) -> None:
        raise Boom("the audit log is unavailable")

    monkeypatch.setattr(audit, "record", failing_record)

    with pytest.raises(Boom):
        SafetySettings.objects.change(cast.teen, actor=cast.teen, dm_setting="friends")

    assert SafetySettings.objects.get(user=cast.teen).dm_setting == "nobody"


def test_an_unknown_status_is_bad_input(cast: Cast) -> None:
    with pytest.raises(DomainError) as refused:
        User.objects.change_status(cast.teen, "deleted", actor=cast.actor, reason="test")

    assert "status" in refused.value.fields


def test_a_status_change_needs_a_reason(cast: Cast) -> None:
    with pytest.raises(DomainError):
        User.objects.change_status(cast.teen, "restricted", actor=cast.actor, reason=" ")
    assert User.objects.get(pk=cast.teen.pk).status == "active"
