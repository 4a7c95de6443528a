"""What messaging writes to the audit log, and what it deliberately does not (a message send)."""

from __future__ import annotations

import pytest
from django.db import transaction

from messaging.models import Block, Connection, Thread
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR
from tests.factories.messaging import direct_thread, friendly_pair, group_thread, person, send

pytestmark = pytest.mark.django_db


def test_follows_and_unfollows_are_audited_with_the_person_acting(audit_actions) -> None:
    a, b = person(30), person(30)
    Connection.objects.follow(follower=a, followee=b, actor=a)
    Connection.objects.follow(follower=a, followee=b, actor=a)  # idempotent: no second entry
    Connection.objects.follow(follower=b, followee=a, actor=FACTORY_ACTOR)
    assert Connection.objects.are_friends(a, b)
    assert Connection.objects.unfollow(follower=a, followee=b, actor=a)
    assert not Connection.objects.unfollow(follower=a, followee=b, actor=a)
    assert not Connection.objects.are_friends(a, b)
    followed = audit_actions("messaging.connection.followed")
    assert [(e.actor_kind, e.after["friends"]) for e in followed] == [
        ("user", False),
        ("system", True),
    ]
    (unfollowed,) = audit_actions("messaging.connection.unfollowed")
    assert unfollowed.actor_id == str(a.pk)
    assert unfollowed.before == {"follower": a.pk, "followee": b.pk, "friends": True}


def test_blocks_and_unblocks_are_audited(audit_actions) -> None:
    a, b = person(30), person(30)
    Block.objects.block(blocker=a, blocked=b, actor=a)
    assert Block.objects.is_blocked(b, a)
    assert Block.objects.unblock(blocker=a, blocked=b, actor=a)
    assert [e.action for e in audit_actions("messaging.block.")] == [
        "messaging.block.created",
        "messaging.block.removed",
    ]


def test_following_across_a_block_is_refused() -> None:
    a, b = person(30), person(30)
    Block.objects.block(blocker=b, blocked=a, actor=b)
    with pytest.raises(PolicyViolation) as refused:
        Connection.objects.follow(follower=a, followee=b, actor=a)
    assert refused.value.code == "dm_blocked"


def test_thread_start_and_participant_add_are_audited(audit_actions) -> None:
    creator, a, b, c = (person(30), *(person(30, dm="everyone") for _ in range(3)))
    group = group_thread(creator, [a, b])
    Thread.objects.add_participant(group, user=c, added_by=a, actor=a)
    (started,) = audit_actions("messaging.thread.started")
    assert started.after == {
        "kind": "group",
        "creator": creator.pk,
        "participants": [creator.pk, a.pk, b.pk],
    }
    (added,) = audit_actions("messaging.thread.participant_added")
    assert (added.actor_id, added.after) == (str(a.pk), {"user": c.pk, "added_by": a.pk})


def test_a_message_send_writes_no_audit_entry() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    before = AuditEntry.objects.count()
    send(a, thread)
    assert AuditEntry.objects.count() == before


def test_a_refused_attempt_writes_no_audit_entry() -> None:
    adult, teen = person(30), person(14)
    before = AuditEntry.objects.count()
    with pytest.raises(PolicyViolation):
        direct_thread(adult, teen)
    assert AuditEntry.objects.count() == before


def test_a_block_and_its_locks_roll_back_together() -> None:
    """The audit entries and the locks join the block's transaction."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    before = AuditEntry.objects.count()

    def block_then_fail() -> None:
        with transaction.atomic():
            Block.objects.block(blocker=a, blocked=b, actor=a)
            raise RuntimeError("the caller's transaction fails later")

    with pytest.raises(RuntimeError):
        block_then_fail()
    assert not Thread.objects.get(pk=thread.pk).locked
    assert not Block.objects.is_blocked(a, b)
    assert AuditEntry.objects.count() == before
