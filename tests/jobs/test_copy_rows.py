"""`core.bulk_insert.copy_rows`: batched jobs write rows by COPY; what lands is what the ORM would
have written (plain values as they are, JSON, times and countries through their fields)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accounts.models import MinimumAgeReview
from safety_portal.core import clock
from safety_portal.core.bulk_insert import copy_rows
from safety_portal.core.outbox.models import OutboxMessage, UserNotice
from tests.factories.accounts import AppUserFactory

pytestmark = pytest.mark.django_db


def test_copied_rows_read_back_as_the_orm_would_have_written_them() -> None:
    user = AppUserFactory(
        country="AU", age=30
    )  # above every minimum age: the row, not the user, is tested
    now = clock.now()
    day = dt.date(2026, 1, 5)
    copied = copy_rows(
        MinimumAgeReview,
        [
            {
                "user_id": user.pk,
                "country": user.country,  # a Country object: prepared by its field
                "found_on": day,
                "grace_until": day + dt.timedelta(days=14),
                "appeal_until": day + dt.timedelta(days=180),
                "notified_at": now,
            }
        ],
    )
    assert copied == 1
    review = MinimumAgeReview.objects.get(user=user)
    assert (str(review.country), review.found_on, review.notified_at) == ("AU", day, now)
    assert (review.outcome, review.appealed_at) == ("open", None)  # the fields' defaults


def test_a_copied_row_that_breaks_a_constraint_is_refused_not_skipped() -> None:
    user = AppUserFactory()
    row = {"user_id": user.pk, "key": "k", "kind": "minimum_age", "subject": "s", "body": "b"}
    row["created_at"] = clock.now()
    copy_rows(UserNotice, [row])
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(UserNotice, [row])  # one notice per user and key
    assert UserNotice.objects.filter(user=user).count() == 1


def test_a_json_value_shared_by_every_row_lands_whole_in_each_and_others_keep_their_own() -> None:
    """The writer encodes a repeated mapping once: each row still reads back its own value."""
    shared = {"status": "under_age_review", "note": "é \u2028", "n": [1, 2.5, None, True]}
    now = clock.now()
    rows = [
        {"task_name": "t", "kwargs": shared, "created_at": now},
        {"task_name": "t", "kwargs": {"own": 1}, "created_at": now},
        {"task_name": "t", "kwargs": shared, "created_at": now},
        {"task_name": "t", "kwargs": [], "created_at": now},
        {"task_name": "t", "kwargs": "a string", "created_at": now},
    ]
    copy_rows(OutboxMessage, rows)
    stored = list(OutboxMessage.objects.order_by("pk").values_list("kwargs", flat=True))
    assert stored == [shared, {"own": 1}, shared, [], "a string"]
