"""The messaging demo shows the rules at work and adds nothing when run again (issue 3, demo data)."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management.color import no_style

from accounts import demo as accounts_demo
from messaging import demo as messaging_demo
from messaging.models import Block, Connection, Message, RefusedContactAttempt, Thread
from safety_portal.core.demo import DemoContext

pytestmark = pytest.mark.django_db


def context() -> DemoContext:
    return DemoContext(rng=random.Random(20261129), out=io.StringIO(), style=no_style())


def counts() -> tuple[int, ...]:
    return (
        Connection.objects.count(),
        Block.objects.count(),
        Thread.objects.count(),
        Message.objects.count(),
        RefusedContactAttempt.objects.count(),
    )


def test_the_demo_seeds_allowed_threads_a_locked_thread_and_refusals_once() -> None:
    accounts_demo.seed(context())
    first = context()
    messaging_demo.seed(first)

    assert Thread.objects.filter(kind="group", title=messaging_demo.GROUP_TITLE).count() == 1
    assert Thread.objects.filter(kind="direct").count() >= 4
    locked = Thread.objects.get(locked=True)
    assert (locked.locked_reason, locked.locked_source) == ("dm_blocked", "block")
    assert Message.objects.in_thread(locked).count() == len(messaging_demo.LOCKED_CHAT)
    reasons = set(RefusedContactAttempt.objects.values_list("reason", flat=True))
    assert reasons == {
        "dm_recipient_under_16",
        "dm_sender_under_16",
        "dm_not_friends",
        "group_add_not_friend",
    }
    assert any("locked after a block" in note for note in first.notes)

    before = counts()
    again = context()
    messaging_demo.seed(again)
    assert counts() == before
    assert any("locked after a block" in note for note in again.notes)
