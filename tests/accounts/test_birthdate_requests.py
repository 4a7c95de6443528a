"""Birthdate-change requests (POLICY.md §4): younger at once, older only with review and evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from accounts.models import BirthdateChangeRequest, User
from safety_portal import rules
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation
from safety_portal.rules.vocabulary import AccountStatus, AssuranceMethod, Reason
from tests.factories.accounts import AppUserFactory, birthdate_for_age

pytestmark = pytest.mark.django_db

Entries = Callable[..., list[AuditEntry]]


def submit(user: User, new_birthdate: dt.date, *, actor: object, **kwargs: object):
    values: dict[str, object] = {
        "method": AssuranceMethod.ID_DOCUMENT,
        "evidence_reference": "idv:check/1234",
        "reason": "Typed the wrong year at sign-up.",
    } | kwargs
    return BirthdateChangeRequest.objects.submit(
        user=user, new_birthdate=new_birthdate, actor=actor, **values
    )


def snapshot(user: User) -> tuple[object, ...]:
    """Everything a refused request must leave as it was."""
    fresh = User.objects.get(pk=user.pk)
    return (
        fresh.birthdate,
        fresh.status,
        fresh.assurance_method,
        BirthdateChangeRequest.objects.count(),
        AuditEntry.objects.count(),
    )


# --- Younger: at once --------------------------------------------------------------------------


def test_a_younger_birthdate_applies_at_once_and_is_audited(
    older_teen: User, system: object, audit_entries: Entries
) -> None:
    old = older_teen.birthdate
    younger = birthdate_for_age(14)

    request = submit(older_teen, younger, actor=system, method=AssuranceMethod.GUARDIAN_VOUCH)

    assert request.status == "applied"
    assert User.objects.get(pk=older_teen.pk).birthdate == younger
    assert older_teen.birthdate == younger  # the caller's instance is refreshed
    assert older_teen.assurance_method == "guardian_vouch"
    assert older_teen.assurance_level == "medium"
    [entry] = audit_entries("accounts.birthdate.change_applied")
    assert entry.before["tier"] == "older_teen"
    assert entry.after["tier"] == "young_teen"
    assert entry.before["birthdate"]["redacted"] == "minor"  # exact dates of minors stay out
    assert old.isoformat() not in str(entry.before)
    assert entry.after["request"] == request.pk
    assert audit_entries("accounts.birthdate.change_requested") == []  # one change, one entry


def test_a_self_declared_younger_birthdate_is_enough(adult: User, today: dt.date) -> None:
    request = submit(adult, birthdate_for_age(17), actor=adult, method="self_declared")

    assert request.status == "applied"
    assert adult.tier(today) is rules.vocabulary.Tier.OLDER_TEEN


def test_dropping_below_the_minimum_age_moves_the_account_to_under_age_review(
    system: object, audit_entries: Entries
) -> None:
    """POLICY.md §2/§4: a 16-year-old in Australia corrected to 15 is below AU's minimum of 16."""
    user = AppUserFactory(age=16, country="AU")

    submit(user, birthdate_for_age(15), actor=system, method="guardian_vouch")

    assert User.objects.get(pk=user.pk).status == AccountStatus.UNDER_AGE_REVIEW
    [entry] = audit_entries("accounts.status.changed")
    assert entry.before == {"status": "active"}
    assert entry.after == {"status": "under_age_review"}
    assert "minimum age" in entry.reason


def test_a_younger_birthdate_above_the_minimum_age_keeps_the_account_active(
    older_teen: User, system: object
) -> None:
    submit(older_teen, birthdate_for_age(13), actor=system)

    assert User.objects.get(pk=older_teen.pk).status == AccountStatus.ACTIVE


# --- Older: staff review and strong assurance ---------------------------------------------------


def test_an_older_birthdate_waits_for_staff_review(
    teen: User, system: object, audit_entries: Entries
) -> None:
    old = teen.birthdate

    request = submit(teen, birthdate_for_age(18), actor=teen)

    assert request.status == "pending"
    assert User.objects.get(pk=teen.pk).birthdate == old
    [entry] = audit_entries("accounts.birthdate.change_requested")
    assert entry.after["direction"] == "older"
    assert entry.after["method"] == "id_document"


def test_a_self_declared_older_birthdate_is_refused_as_too_weak(teen: User) -> None:
    before = snapshot(teen)

    with pytest.raises(PolicyViolation) as refused:
        submit(teen, birthdate_for_age(18), actor=teen, method="self_declared")

    assert refused.value.code == Reason.METHOD_TOO_WEAK
    assert snapshot(teen) == before


def test_staff_with_the_decide_permission_approve_and_it_is_audited(
    teen: User, senior: User, audit_entries: Entries
) -> None:
    request = submit(teen, birthdate_for_age(18), actor=teen)

    BirthdateChangeRequest.objects.approve(request, actor=senior, note="ID checked, matches.")

    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", senior)
    assert request.decided_at is not None
    fresh = User.objects.get(pk=teen.pk)
    assert fresh.birthdate == birthdate_for_age(18)
    assert (fresh.assurance_method, fresh.assurance_level) == ("id_document", "high")
    [entry] = audit_entries("accounts.birthdate.change_approved")
    assert (entry.actor_kind, entry.actor_id) == ("user", str(senior.pk))
    assert entry.reason == "ID checked, matches."
    assert entry.before["tier"] == "young_teen"
    assert entry.after["tier"] == "adult"


@pytest.mark.parametrize("who", ["the user", "another app user", "staff without the permission"])
def test_only_staff_with_the_decide_permission_may_approve(
    teen: User, adult: User, moderator: User, who: str
) -> None:
    reviewer = {
        "the user": teen,
        "another app user": adult,
        "staff without the permission": moderator,
    }[who]
    request = submit(teen, birthdate_for_age(18), actor=teen)
    before = snapshot(teen)

    with pytest.raises(NotPermitted):
        BirthdateChangeRequest.objects.approve(request, actor=reviewer, note="Looks fine.")
    with pytest.raises(NotPermitted):
        BirthdateChangeRequest.objects.reject(request, actor=reviewer, note="No.")

    assert snapshot(teen) == before
    assert BirthdateChangeRequest.objects.get(pk=request.pk).status == "pending"


def test_a_note_is_required_to_decide(teen: User, senior: User) -> None:
    request = submit(teen, birthdate_for_age(18), actor=teen)

    with pytest.raises(DomainError) as refused:
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="  ")

    assert refused.value.fields == {"note": ["required"]}


def test_rejection_is_audited_and_keeps_the_birthdate(
    teen: User, senior: User, audit_entries: Entries
) -> None:
    old = teen.birthdate
    request = submit(teen, birthdate_for_age(18), actor=teen)

    BirthdateChangeRequest.objects.reject(request, actor=senior, note="Document unreadable.")

    assert request.status == "rejected"
    assert User.objects.get(pk=teen.pk).birthdate == old
    [entry] = audit_entries("accounts.birthdate.change_rejected")
    assert entry.reason == "Document unreadable."
    assert entry.after == {"request": request.pk, "status": "rejected"}


def test_approving_twice_is_a_conflict(teen: User, senior: User, audit_entries: Entries) -> None:
    request = submit(teen, birthdate_for_age(18), actor=teen)
    BirthdateChangeRequest.objects.approve(request, actor=senior, note="ID checked.")
    entries = len(audit_entries())

    with pytest.raises(Conflict) as refused:
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="Again.")

    assert refused.value.code == "already_decided"
    assert len(audit_entries()) == entries


def test_a_rejected_request_cannot_be_approved(teen: User, senior: User) -> None:
    request = submit(teen, birthdate_for_age(18), actor=teen)
    BirthdateChangeRequest.objects.reject(request, actor=senior, note="No evidence.")

    with pytest.raises(Conflict):
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="Changed my mind.")


def test_a_second_pending_request_is_a_conflict_and_writes_nothing(teen: User) -> None:
    submit(teen, birthdate_for_age(18), actor=teen)
    before = snapshot(teen)

    with pytest.raises(Conflict) as refused:
        submit(teen, birthdate_for_age(17), actor=teen)
    with pytest.raises(Conflict):
        submit(teen, birthdate_for_age(13), actor=teen)  # even a younger one: decide first

    assert refused.value.code == "pending_request_exists"
    assert snapshot(teen) == before


def test_the_database_allows_one_pending_request_per_user(teen: User) -> None:
    submit(teen, birthdate_for_age(18), actor=teen)

    with pytest.raises(IntegrityError), transaction.atomic():
        BirthdateChangeRequest.objects.create(
            user=teen,
            old_birthdate=teen.birthdate,
            new_birthdate=birthdate_for_age(17),
            method="id_document",
            reason="around the manager",
            requested_by_kind="user",
            requested_by_id=str(teen.pk),
            requested_by_label=teen.username,
            created_at=teen.date_joined,
        )


def test_the_database_refuses_an_older_request_marked_applied(teen: User) -> None:
    """POLICY.md §4 backed by a constraint: only a younger date applies without review."""
    with pytest.raises(IntegrityError), transaction.atomic():
        BirthdateChangeRequest.objects.create(
            user=teen,
            old_birthdate=teen.birthdate,
            new_birthdate=birthdate_for_age(19),
            method="self_declared",
            reason="around the manager",
            status="applied",
            requested_by_kind="user",
            requested_by_id=str(teen.pk),
            requested_by_label=teen.username,
            created_at=teen.date_joined,
        )


def test_approval_rechecks_the_method_of_a_request_made_around_the_manager(
    teen: User, senior: User
) -> None:
    request = BirthdateChangeRequest.objects.create(
        user=teen,
        old_birthdate=teen.birthdate,
        new_birthdate=birthdate_for_age(18),
        method="self_declared",
        reason="typed into the admin",
        requested_by_kind="user",
        requested_by_id=str(teen.pk),
        requested_by_label=teen.username,
        created_at=teen.date_joined,
    )

    with pytest.raises(PolicyViolation) as refused:
        BirthdateChangeRequest.objects.approve(request, actor=senior, note="ok")

    assert refused.value.code == Reason.METHOD_TOO_WEAK


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": "horoscope"}, "method"),
        ({"reason": " "}, "reason"),
        ({"evidence_reference": "x" * 201}, "evidence_reference"),
        ({"new_birthdate": dt.date(1899, 1, 1)}, "birthdate"),
        ({"new_birthdate": "2010-01-01"}, "birthdate"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(
    teen: User, change: dict[str, object], field: str
) -> None:
    values = {"new_birthdate": birthdate_for_age(13)} | change
    new_birthdate = values.pop("new_birthdate")
    before = snapshot(teen)

    with pytest.raises(DomainError) as refused:
        submit(teen, new_birthdate, actor=teen, **values)  # type: ignore[arg-type]

    assert field in refused.value.fields
    assert snapshot(teen) == before


def test_a_future_birthdate_is_refused(teen: User, today: dt.date) -> None:
    with pytest.raises(DomainError) as refused:
        submit(teen, today + dt.timedelta(days=1), actor=teen)

    assert refused.value.fields["birthdate"] == ["A birthdate cannot be in the future."]


def test_the_same_birthdate_is_refused(teen: User) -> None:
    with pytest.raises(PolicyViolation) as refused:
        submit(teen, teen.birthdate, actor=teen)

    assert refused.value.code == Reason.BIRTHDATE_UNCHANGED


def test_the_direction_is_judged_from_the_current_birthdate_not_a_stale_copy(
    older_teen: User, system: object
) -> None:
    """A copy loaded before a correction must not turn an older request into an 'applied' one."""
    stale = User.objects.get(pk=older_teen.pk)
    submit(older_teen, birthdate_for_age(13), actor=system)  # now 13

    request = submit(stale, birthdate_for_age(15), actor=system)  # older than 13: needs review

    assert request.status == "pending"
    assert request.old_birthdate == birthdate_for_age(13)
