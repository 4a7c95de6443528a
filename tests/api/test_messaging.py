"""Follows, blocks, threads, participants and messages through the API (issue 6).

The rules are messaging's (POLICY.md §3); these tests check that the API reaches the right door,
passes the client as actor, and answers with the right status and reason code.
"""

from __future__ import annotations

import pytest

from messaging.models import Block, Connection, Message, Thread
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import FACTORY_ACTOR, StaffFactory
from tests.factories.messaging import befriend, block, friendly_pair, group_thread, person, send

pytestmark = pytest.mark.django_db

FOLLOWS, BLOCKS, THREADS = "/api/v1/follows/", "/api/v1/blocks/", "/api/v1/threads/"


@pytest.fixture
def social(make_caller):
    return make_caller("social:write", name="app-social")


@pytest.fixture
def writer(make_caller):
    return make_caller(["messages:write", "messages:read"], name="app-messages")


def test_follow_is_created_once_and_reports_friendship(social):
    a, b = person(30), person(31)
    first = social.post(FOLLOWS, {"follower": a.pk, "followee": b.pk})
    assert first.status_code == 201, first.content
    assert first.json()["friends"] is False
    assert social.post(FOLLOWS, {"follower": a.pk, "followee": b.pk}).status_code == 200
    back = social.post(FOLLOWS, {"follower": b.pk, "followee": a.pk})
    assert back.json()["friends"] is True
    assert Connection.objects.filter(follower=a, followee=b).count() == 1
    entry = AuditEntry.objects.filter(action="messaging.connection.followed").latest("seq")
    assert (entry.actor_kind, entry.actor_label) == ("api_client", "app-social")


def test_follow_across_a_block_is_refused_with_the_reason(social):
    a, b = person(30), person(31)
    block(b, a)
    response = social.post(FOLLOWS, {"follower": a.pk, "followee": b.pk})
    assert response.status_code == 403
    assert response.json()["code"] == "dm_blocked"


@pytest.mark.parametrize(
    "body",
    [
        {"follower": 1},
        {"follower": "a", "followee": 2},
        {"follower": 0, "followee": 2},
        {"follower": 2**64, "followee": 2},
        {"follower": True, "followee": 2},
    ],
)
def test_malformed_follow_bodies_are_400(social, body):
    response = social.post(FOLLOWS, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_unknown_staff_or_self_follows_are_400_with_the_field(social):
    a = person(30)
    staff = StaffFactory()
    unknown = social.post(FOLLOWS, {"follower": a.pk, "followee": 99_999_999})
    assert unknown.json()["fields"] == {"followee": ["unknown user"]}
    assert social.post(FOLLOWS, {"follower": a.pk, "followee": staff.pk}).status_code == 400
    assert social.post(FOLLOWS, {"follower": a.pk, "followee": a.pk}).status_code == 400


def test_unfollow_with_a_body_ends_the_follow_then_404(social):
    a, b = person(30), person(31)
    social.post(FOLLOWS, {"follower": a.pk, "followee": b.pk})
    assert social.delete(FOLLOWS, {"follower": a.pk, "followee": b.pk}).status_code == 204
    assert not Connection.objects.filter(follower=a, followee=b).exists()
    again = social.delete(FOLLOWS, {"follower": a.pk, "followee": b.pk})
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert social.delete(FOLLOWS).status_code == 400


def test_ending_a_friendship_locks_a_teen_thread(social):
    teen, friend = friendly_pair(17, 17)
    thread = Thread.objects.start(creator=teen, participants=[friend], actor=FACTORY_ACTOR)
    social.delete(FOLLOWS, {"follower": friend.pk, "followee": teen.pk})
    thread.refresh_from_db()
    assert thread.locked


def test_block_is_created_once_and_locks_shared_threads(social):
    a, b = friendly_pair()
    thread = Thread.objects.start(creator=a, participants=[b], actor=FACTORY_ACTOR)
    assert social.post(BLOCKS, {"blocker": a.pk, "blocked": b.pk}).status_code == 201
    assert social.post(BLOCKS, {"blocker": a.pk, "blocked": b.pk}).status_code == 200
    assert Block.objects.filter(blocker=a, blocked=b).count() == 1
    thread.refresh_from_db()
    assert thread.locked
    assert thread.locked_reason == "dm_blocked"


def test_a_direct_thread_between_friends_is_started_once(writer):
    a, b = friendly_pair(17, 30)
    response = writer.post(THREADS, {"creator": a.pk, "participants": [b.pk]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "direct"
    assert sorted(body["participants"]) == sorted([a.pk, b.pk])
    assert body["locked"] is False
    again = writer.post(THREADS, {"creator": b.pk, "participants": [a.pk]})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("sender_age", "recipient_age", "friends", "code"),
    [
        (15, 30, True, "dm_sender_under_16"),
        (30, 14, True, "dm_recipient_under_16"),
        (17, 17, False, "dm_not_friends"),
    ],
)
def test_a_refused_thread_is_403_with_the_policy_reason(
    writer, sender_age, recipient_age, friends, code
):
    a = person(sender_age, dm="friends" if sender_age >= 16 else None)
    b = person(recipient_age, dm="friends" if recipient_age >= 16 else None)
    if friends:
        befriend(a, b)
    response = writer.post(THREADS, {"creator": a.pk, "participants": [b.pk]})
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert not Thread.objects.exists()


def test_thread_input_errors_are_400(writer):
    a, b = friendly_pair()
    assert writer.post(THREADS, {"creator": a.pk, "participants": []}).status_code == 400
    assert writer.post(THREADS, {"creator": a.pk, "participants": [a.pk]}).status_code == 400
    dup = writer.post(THREADS, {"creator": a.pk, "participants": [b.pk, b.pk], "kind": "group"})
    assert dup.status_code == 400
    unknown = writer.post(THREADS, {"creator": a.pk, "participants": [b.pk, 99_999_999]})
    assert unknown.status_code == 400
    assert "participants" in unknown.json()["fields"]


def test_adding_a_participant_follows_the_group_rules(writer):
    host, guest = friendly_pair(30, 30)
    thread = group_thread(host, [guest], title="Climbing")
    newcomer = person(25, dm="friends")
    befriend(host, newcomer)
    response = writer.post(
        f"{THREADS}{thread.pk}/participants/", {"user": newcomer.pk, "added_by": host.pk}
    )
    assert response.status_code == 201, response.content
    assert newcomer.pk in response.json()["participants"]
    young = person(15)
    refused = writer.post(
        f"{THREADS}{thread.pk}/participants/", {"user": young.pk, "added_by": host.pk}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "group_member_under_16"
    again = writer.post(
        f"{THREADS}{thread.pk}/participants/", {"user": newcomer.pk, "added_by": host.pk}
    )
    assert again.status_code == 409
    outsider = writer.post(
        f"{THREADS}{thread.pk}/participants/", {"user": young.pk, "added_by": young.pk}
    )
    assert outsider.json()["code"] == "not_a_participant"


def test_unknown_threads_are_404(writer):
    a = person(30)
    assert writer.post(f"{THREADS}999999/messages/", {"sender": a.pk, "body": "x"}).status_code == (
        404
    )
    assert writer.get(f"{THREADS}999999/messages/").status_code == 404
    assert (
        writer.post(f"{THREADS}999999/participants/", {"user": a.pk, "added_by": a.pk}).status_code
        == 404
    )


def test_sending_a_message_and_refusals(writer):
    a, b = friendly_pair()
    thread = Thread.objects.start(creator=a, participants=[b], actor=FACTORY_ACTOR)
    sent = writer.post(f"{THREADS}{thread.pk}/messages/", {"sender": a.pk, "body": "hi there"})
    assert sent.status_code == 201, sent.content
    assert sent.json()["body"] == "hi there"
    assert Message.objects.get(pk=sent.json()["id"]).sent_via == f"api_client:{writer.client.pk}"
    outsider = person(30)
    refused = writer.post(f"{THREADS}{thread.pk}/messages/", {"sender": outsider.pk, "body": "x"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_a_participant"
    blank = writer.post(f"{THREADS}{thread.pk}/messages/", {"sender": a.pk, "body": "   "})
    assert blank.status_code == 400
    block(b, a)
    locked = writer.post(f"{THREADS}{thread.pk}/messages/", {"sender": a.pk, "body": "hello?"})
    assert locked.status_code == 403
    assert locked.json()["code"] == "thread_locked"


def test_reading_messages_is_paginated_and_leaves_out_moderated_ones(writer):
    a, b = friendly_pair()
    thread = Thread.objects.start(creator=a, participants=[b], actor=FACTORY_ACTOR)
    sent = [send(a if i % 2 else b, thread, f"message {i}") for i in range(5)]
    Message.objects.set_moderation_state(sent[0], "hidden", actor=FACTORY_ACTOR, reason="test")
    first = writer.get(f"{THREADS}{thread.pk}/messages/", {"page_size": 3}).json()
    assert [m["body"] for m in first["results"]] == ["message 4", "message 3", "message 2"]
    rest = writer.get(first["next"]).json()
    assert [m["body"] for m in rest["results"]] == ["message 1"]
    as_b = writer.get(f"{THREADS}{thread.pk}/messages/", {"as_user": b.pk}).json()
    assert len(as_b["results"]) == 4
    outsider = person(30)
    assert (
        writer.get(f"{THREADS}{thread.pk}/messages/", {"as_user": outsider.pk}).status_code == 404
    )
    assert writer.get(f"{THREADS}{thread.pk}/messages/", {"as_user": "x"}).status_code == 400


def test_a_16_year_old_joins_a_group_over_the_api_by_accepting_a_friends_invite(writer):
    host, other, teen = person(30), person(30, dm="everyone"), person(16, dm="friends")
    befriend(host, teen)
    thread = group_thread(host, [other])
    added = writer.post(
        f"{THREADS}{thread.pk}/participants/", {"user": teen.pk, "added_by": host.pk}
    )
    assert added.status_code == 403
    assert added.json()["code"] == "group_invite_required"

    sent = writer.post(
        f"{THREADS}{thread.pk}/invites/", {"invitee": teen.pk, "invited_by": host.pk}
    )
    assert sent.status_code == 201, sent.content
    invite = sent.json()
    assert invite["status"] == "pending"
    again = writer.post(
        f"{THREADS}{thread.pk}/invites/", {"invitee": teen.pk, "invited_by": host.pk}
    )
    assert again.status_code == 409
    wrong = writer.post(f"/api/v1/group-invites/{invite['id']}/accept/", {"invitee": other.pk})
    assert wrong.status_code == 403
    accepted = writer.post(f"/api/v1/group-invites/{invite['id']}/accept/", {"invitee": teen.pk})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert teen in thread.members.all()
    answered = writer.post(f"/api/v1/group-invites/{invite['id']}/decline/", {"invitee": teen.pk})
    assert answered.status_code == 409
    entry = AuditEntry.objects.filter(action="messaging.group_invite.accepted").latest("seq")
    assert entry.actor_kind == "api_client"
