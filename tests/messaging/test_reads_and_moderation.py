"""Who sees which messages: the people in a thread, moderation, and staff reads with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from messaging.models import Message, Thread
from messaging.services import read_messages_for_staff
from safety_portal.core import clock
from safety_portal.core.errors import DomainError, NotPermitted
from tests.factories.accounts import FACTORY_ACTOR, StaffFactory
from tests.factories.messaging import (
    befriend,
    block,
    direct_thread,
    friendly_pair,
    group_thread,
    person,
    send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation():
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    return a, b, thread, [send(a, thread, "one"), send(b, thread, "two"), send(a, thread, "three")]


@pytest.fixture
def moderator():
    return StaffFactory(roles=["Moderator"])


# --- visible_to / for_user -----------------------------------------------------------------------


def test_a_person_sees_the_visible_messages_of_their_threads_newest_first(conversation) -> None:
    a, b, _thread, (one, two, three) = conversation
    outsider = person(30)
    assert list(Message.objects.visible_to(a)) == [three, two, one]
    assert list(Message.objects.visible_to(b)) == [three, two, one]
    assert list(Message.objects.visible_to(outsider)) == []


def test_hidden_and_removed_messages_are_not_shown(conversation, moderator) -> None:
    a, _b, _thread, (one, two, three) = conversation
    Message.objects.set_moderation_state(two, "hidden", actor=moderator, reason="spam")
    Message.objects.set_moderation_state(three, "removed", actor=moderator, reason="abuse")
    assert list(Message.objects.visible_to(a)) == [one]


def test_a_locked_threads_messages_stay_visible(conversation) -> None:
    a, b, thread, messages = conversation
    block(a, b)
    assert Thread.objects.get(pk=thread.pk).locked
    assert len(Message.objects.visible_to(b)) == len(messages)


def test_someone_added_to_a_group_sees_messages_from_when_they_joined() -> None:
    creator, member, later = person(30), person(30, dm="everyone"), person(30, dm="everyone")
    befriend(creator, later)
    start = clock.now()
    with time_machine.travel(start, tick=False):
        group = group_thread(creator, [member, person(30, dm="everyone")])
        before = send(creator, group, "before you came")
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        Thread.objects.add_participant(group, user=later, added_by=creator, actor=creator)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        after = send(member, group, "welcome")
    assert list(Message.objects.visible_to(later)) == [after]
    assert list(Message.objects.visible_to(member)) == [after, before]


def test_threads_of_a_person_include_locked_ones_and_no_others(conversation) -> None:
    a, b, thread, _messages = conversation
    c = person(30, dm="everyone")
    other = direct_thread(a, c)
    direct_thread(b, c)
    block(a, b)
    assert set(Thread.objects.for_user(a)) == {thread, other}


# --- moderation ----------------------------------------------------------------------------------


def test_moderation_hides_removes_and_restores_without_touching_the_body(
    conversation, moderator, audit_actions
) -> None:
    _a, _b, _thread, (one, _two, _three) = conversation
    hidden = Message.objects.set_moderation_state(one, "hidden", actor=moderator, reason="report 4")
    removed = Message.objects.set_moderation_state(one, "removed", actor=moderator, reason="case 9")
    assert (hidden.moderation_state, removed.moderation_state) == ("hidden", "removed")
    one.refresh_from_db()
    assert (one.body, one.moderation_state) == ("one", "removed")
    assert one.moderation_changed_at is not None
    restored = Message.objects.set_moderation_state(
        one, "visible", actor=moderator, reason="appeal"
    )
    assert restored.moderation_state == "visible"
    actions = [e.action for e in audit_actions("messaging.message.")]
    assert actions == [
        "messaging.message.hidden",
        "messaging.message.removed",
        "messaging.message.restored",
    ]
    entry = audit_actions("messaging.message.removed")[0]
    assert (entry.actor_id, entry.reason, entry.before, entry.target_id) == (
        str(moderator.pk),
        "case 9",
        {"moderation_state": "hidden"},
        str(one.pk),
    )
    assert "one" not in str(entry.after), "the audit log never copies a message body"


def test_setting_the_same_state_again_changes_nothing(
    conversation, moderator, audit_actions
) -> None:
    _a, _b, _thread, (one, _two, _three) = conversation
    Message.objects.set_moderation_state(one, "visible", actor=moderator, reason="no-op")
    assert audit_actions("messaging.message.") == []


def test_an_app_user_cannot_moderate(conversation) -> None:
    a, _b, _thread, (one, _two, _three) = conversation
    with pytest.raises(NotPermitted):
        Message.objects.set_moderation_state(one, "hidden", actor=a, reason="I regret it")


def test_a_moderation_change_needs_a_known_state_and_a_reason(conversation, moderator) -> None:
    _a, _b, _thread, (one, _two, _three) = conversation
    with pytest.raises(DomainError) as bad:
        Message.objects.set_moderation_state(one, "deleted", actor=moderator, reason=" ")
    assert set(bad.value.fields) == {"state", "reason"}


def test_a_moderation_job_can_moderate(conversation) -> None:
    _a, _b, _thread, (one, _two, _three) = conversation
    row = Message.objects.set_moderation_state(one, "hidden", actor=FACTORY_ACTOR, reason="auto")
    assert row.moderation_state == "hidden"


# --- staff reads ---------------------------------------------------------------------------------


def test_a_staff_read_of_a_thread_needs_a_reason_and_writes_who_read_whose(
    conversation, audit_actions
) -> None:
    a, b, thread, (one, two, three) = conversation
    triage = StaffFactory(roles=["Triage"])
    Message.objects.set_moderation_state(two, "removed", actor=FACTORY_ACTOR, reason="abuse")
    read = read_messages_for_staff(actor=triage, thread=thread, reason="Report 31: harassment")
    assert [m.body for m in read] == ["three", "two", "one"]  # removed messages keep their body
    (entry,) = audit_actions("messaging.messages.read_by_staff")
    assert entry.actor_id == str(triage.pk)
    assert (entry.target_type, entry.target_id) == ("messaging.thread", str(thread.pk))
    assert entry.reason == "Report 31: harassment"
    assert entry.after["whose"] == [a.pk, b.pk]
    assert entry.after["message_ids"] == [three.pk, two.pk, one.pk]


def test_a_staff_read_of_a_persons_messages_can_cite_a_case(conversation, audit_actions) -> None:
    a, _b, _thread, (one, _two, three) = conversation
    triage = StaffFactory(roles=["Triage"])
    read = read_messages_for_staff(actor=triage, user=a, reason="", case=77)
    assert read == [three, one]
    (entry,) = audit_actions("messaging.messages.read_by_staff")
    assert (entry.target_id, entry.reason, entry.after["case"]) == (str(a.pk), "case 77", "77")


def test_a_staff_read_without_a_reason_is_refused_and_not_logged(
    conversation, audit_actions
) -> None:
    _a, _b, thread, _messages = conversation
    triage = StaffFactory(roles=["Triage"])
    with pytest.raises(DomainError) as bad:
        read_messages_for_staff(actor=triage, thread=thread, reason="   ")
    assert "reason" in bad.value.fields
    with pytest.raises(DomainError):
        read_messages_for_staff(actor=triage, reason="both?", thread=thread, user=_a)
    assert audit_actions("messaging.messages.read_by_staff") == []


def test_only_staff_with_the_read_permission_read_bodies(conversation) -> None:
    a, _b, thread, _messages = conversation
    for reader in (StaffFactory(), StaffFactory(roles=["Auditor"]), a):
        with pytest.raises(NotPermitted):
            read_messages_for_staff(actor=reader, thread=thread, reason="curious")


def test_a_staff_read_around_a_message_gives_its_neighbours_on_both_sides(audit_actions) -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with time_machine.travel(clock.now(), tick=False):  # one timestamp: the id breaks the tie
        sent = [send(a if i % 2 else b, thread, f"m{i}") for i in range(7)]
    triage = StaffFactory(roles=["Triage"])
    read = read_messages_for_staff(
        actor=triage, thread=thread, case=5, reason="", around=sent[3], limit=2
    )
    assert [m.body for m in read] == ["m5", "m4", "m3", "m2", "m1"]
    assert {m.sender_id for m in read} == {a.pk, b.pk}
    (entry,) = audit_actions("messaging.messages.read_by_staff")
    assert entry.after["around"] == sent[3].pk
    assert entry.after["message_ids"] == [m.pk for m in read]
    edge = read_messages_for_staff(
        actor=triage, thread=thread, case=5, reason="", around=sent[0], limit=2
    )
    assert [m.body for m in edge] == ["m2", "m1", "m0"]


def test_a_read_around_a_message_of_another_thread_is_refused(conversation, audit_actions) -> None:
    a, _b, thread, _messages = conversation
    c = person(30, dm="friends")
    befriend(a, c)
    elsewhere = send(a, direct_thread(a, c), "elsewhere")
    triage = StaffFactory(roles=["Triage"])
    for kwargs in ({"thread": thread}, {"user": a}):
        with pytest.raises(DomainError) as bad:
            read_messages_for_staff(actor=triage, case=5, reason="", around=elsewhere, **kwargs)
        assert "around" in bad.value.fields
    assert audit_actions("messaging.messages.read_by_staff") == []
