"""Batched status changes (the minimum-age sweep's path): the same rows, events and audit entries
as one `change_status` per account."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import User
from messaging.models import Thread
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from tests.factories.messaging import direct_thread, friendly_pair, send

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests.batch")


def test_a_batched_status_change_locks_each_thread_and_audits_each_account_and_thread() -> None:
    a, b = friendly_pair(30, 30)
    thread = direct_thread(a, b)
    send(a, thread)
    c, _d = friendly_pair(40, 40)
    with transaction.atomic():
        locked = list(User.objects.select_for_update().filter(pk__in=[a.pk, c.pk]).order_by("pk"))
        moved = User.objects.change_status_many(
            locked, "suspended", actor=ACTOR, reason="batch test"
        )
    assert {u.pk for u in moved} == {a.pk, c.pk}
    assert set(User.objects.filter(pk__in=[a.pk, c.pk]).values_list("status", flat=True)) == {
        "suspended"
    }
    thread = Thread.objects.get(pk=thread.pk)
    assert (thread.locked, thread.locked_reason) == (True, "account_restricted")
    changes = AuditEntry.objects.filter(action="accounts.status.changed", reason="batch test")
    assert sorted(changes.values_list("target_id", flat=True)) == sorted([str(a.pk), str(c.pk)])
    assert AuditEntry.objects.filter(
        action="messaging.thread.locked", target_id=str(thread.pk)
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_a_batched_status_change_outside_a_transaction_is_refused() -> None:
    a, _b = friendly_pair(30, 30)
    with pytest.raises(RuntimeError, match="transaction"):
        User.objects.change_status_many([a], "suspended", actor=ACTOR, reason="x")
    assert User.objects.get(pk=a.pk).status == "active"
