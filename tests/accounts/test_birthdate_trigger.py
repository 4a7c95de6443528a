"""The PostgreSQL trigger: a birthdate changes only through an applied request (POLICY.md §4).

Django's manager is one doorway; `QuerySet.update()`, raw SQL and `Model.save()` walk around it
(STYLE.md idea 2), so the database refuses them. Each leak path is tried here against the real
database, inside a savepoint so that the refusal does not end the test's transaction.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.managers import sanction_birthdate_write
from accounts.models import BirthdateChangeRequest, User
from tests.factories.accounts import AppUserFactory, birthdate_for_age

pytestmark = pytest.mark.django_db

TRIGGER_MESSAGE = "changes only through an applied birthdate-change request"


def birthdate_in_db(user: User) -> dt.date:
    with connection.cursor() as cursor:
        cursor.execute("SELECT birthdate FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_queryset_update_of_a_birthdate_is_refused(teen: User) -> None:
    old = teen.birthdate

    with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
        User.objects.filter(pk=teen.pk).update(birthdate=birthdate_for_age(19))

    assert birthdate_in_db(teen) == old


def test_raw_sql_update_of_a_birthdate_is_refused(teen: User) -> None:
    old = teen.birthdate

    with (
        pytest.raises(IntegrityError, match=TRIGGER_MESSAGE),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE accounts_user SET birthdate = %s WHERE id = %s",
            [birthdate_for_age(19), teen.pk],
        )

    assert birthdate_in_db(teen) == old


def test_saving_a_model_with_a_new_birthdate_is_refused(teen: User) -> None:
    old = teen.birthdate
    teen.birthdate = birthdate_for_age(19)

    with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
        teen.save()

    assert birthdate_in_db(teen) == old


def test_saving_other_fields_leaves_the_trigger_quiet(teen: User) -> None:
    teen.email = "teen@example.org"
    teen.save()  # every column is written, the birthdate with its own value

    assert User.objects.get(pk=teen.pk).email == "teen@example.org"


def test_the_sanctioned_path_changes_the_birthdate(teen: User, system: object) -> None:
    younger = birthdate_for_age(13)

    BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=younger,
        method="self_declared",
        evidence_reference="",
        reason="Younger than declared.",
        actor=system,
    )

    assert birthdate_in_db(teen) == younger


def _applied_request(user: User, new_birthdate: dt.date) -> BirthdateChangeRequest:
    """An applied request row, written without applying it (the trigger's lookup target)."""
    return BirthdateChangeRequest.objects.create(
        user=user,
        old_birthdate=user.birthdate,
        new_birthdate=new_birthdate,
        method="self_declared",
        reason="test",
        status="applied",
        requested_by_kind="system",
        requested_by_id="tests",
        requested_by_label="tests",
        created_at=user.date_joined,
    )


def test_a_sanction_for_one_user_does_not_let_another_users_birthdate_change(
    teen: User,
) -> None:
    other = AppUserFactory(age=15, username="other_teen")
    other_birthdate = other.birthdate
    request = _applied_request(teen, birthdate_for_age(13))

    with transaction.atomic():
        sanction_birthdate_write(request.pk)
        # The sanction works for its own user and date ...
        User.objects.filter(pk=teen.pk).update(birthdate=request.new_birthdate)
        # ... and for nobody else, in the same transaction.
        with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
            User.objects.filter(pk=other.pk).update(birthdate=request.new_birthdate)
        # Nor for another date of its own user.
        with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
            User.objects.filter(pk=teen.pk).update(birthdate=birthdate_for_age(20))

    assert birthdate_in_db(teen) == request.new_birthdate
    assert birthdate_in_db(other) == other_birthdate


def test_a_pending_request_is_not_a_sanction(teen: User) -> None:
    request = BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(19),
        method="id_document",
        evidence_reference="idv:1",
        reason="Older with ID.",
        actor=teen,
    )
    assert request.status == "pending"

    with transaction.atomic():
        sanction_birthdate_write(request.pk)
        with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
            User.objects.filter(pk=teen.pk).update(birthdate=request.new_birthdate)


def test_the_sanction_is_withdrawn_right_after_the_sanctioned_write(
    teen: User, system: object
) -> None:
    """Nothing later in the same transaction can ride on the applied request."""
    with transaction.atomic():
        BirthdateChangeRequest.objects.submit(
            user=teen,
            new_birthdate=birthdate_for_age(13),
            method="self_declared",
            evidence_reference="",
            reason="Younger.",
            actor=system,
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('safety_portal.birthdate_request', true)")
            assert cursor.fetchone()[0] == ""


def test_an_old_applied_request_cannot_be_replayed_to_undo_a_later_correction(
    teen: User, system: object
) -> None:
    original = teen.birthdate
    first = BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(13, days_after_birthday=60),
        method="self_declared",
        evidence_reference="",
        reason="Younger.",
        actor=system,
    )
    second = BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(13, days_after_birthday=10),
        method="self_declared",
        evidence_reference="",
        reason="Younger still.",
        actor=system,
    )

    with transaction.atomic():
        sanction_birthdate_write(first.pk)
        with pytest.raises(IntegrityError, match=TRIGGER_MESSAGE), transaction.atomic():
            User.objects.filter(pk=teen.pk).update(birthdate=first.new_birthdate)
    assert birthdate_in_db(teen) == second.new_birthdate
    assert original != first.new_birthdate != second.new_birthdate
