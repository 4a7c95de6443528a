"""Direct messages follow POLICY.md §3: who may start a direct thread and post in it, and why not."""

from __future__ import annotations

import pytest

from accounts.models import GuardianLink, User
from messaging.models import Message, RefusedContactAttempt, Thread
from safety_portal import rules
from safety_portal.core.errors import DomainError, NotPermitted, PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR
from tests.factories.messaging import (
    befriend,
    block,
    direct_thread,
    follow,
    friendly_pair,
    person,
    restrict_direct_messages,
    send,
)

pytestmark = pytest.mark.django_db

R = rules.vocabulary.Reason


def refused_start(creator: User, other: User) -> str:
    with pytest.raises(PolicyViolation) as refused:
        direct_thread(creator, other)
    return refused.value.code


# --- allowed -------------------------------------------------------------------------------------


def test_two_adult_friends_can_start_a_thread_and_message_each_other() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    first = send(a, thread, "hi!")
    reply = send(b, thread, "hello back")
    assert thread.kind == Thread.Kind.DIRECT
    assert list(Message.objects.in_thread(thread)) == [reply, first]
    assert first.sent_via == f"user:{a.pk}"


def test_sixteen_year_old_can_message_a_friend_when_their_setting_allows() -> None:
    teen, adult = person(16, dm="friends"), person(30)
    befriend(teen, adult)
    thread = direct_thread(teen, adult)
    assert send(teen, thread).pk
    assert send(adult, thread).pk


def test_adult_can_message_a_seventeen_year_old_friend_whose_setting_is_friends() -> None:
    adult, teen = person(40), person(17, dm="friends")
    befriend(adult, teen)
    assert send(adult, direct_thread(adult, teen)).pk


def test_adults_need_no_friendship_when_the_recipient_accepts_everyone() -> None:
    a, b = person(25), person(33, dm="everyone")
    assert send(a, direct_thread(a, b)).pk


def test_starting_the_same_direct_thread_again_returns_it() -> None:
    a, b = friendly_pair()
    first = direct_thread(a, b)
    assert direct_thread(b, a) == first
    assert Thread.objects.direct_between(a, b).count() == 1


def test_an_api_client_sends_for_the_user_and_is_recorded_as_the_way_it_came() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    message = Message.objects.send(sender=a, thread=thread, body="via app", actor=FACTORY_ACTOR)
    assert message.sender == a
    assert message.sent_via == "system:tests.factory"


# --- refused, with the policy's reason code ---------------------------------------------------------


def test_under_sixteen_cannot_start_a_direct_thread() -> None:
    teen, adult = person(15), person(30)
    befriend(teen, adult)
    assert refused_start(teen, adult) == R.DM_SENDER_UNDER_16


def test_nobody_can_message_someone_under_sixteen_even_a_friend() -> None:
    adult, teen = person(30), person(15)
    befriend(adult, teen)
    assert refused_start(adult, teen) == R.DM_RECIPIENT_UNDER_16


def test_sixteen_year_old_cannot_message_a_stranger() -> None:
    teen, adult = person(16, dm="friends"), person(30, dm="everyone")
    assert refused_start(teen, adult) == R.DM_NOT_FRIENDS


def test_sixteen_year_old_with_direct_messages_off_cannot_send() -> None:
    teen, adult = person(16), person(30)  # a 16-17's default setting is "nobody"
    befriend(teen, adult)
    assert refused_start(teen, adult) == R.DM_SENDER_SETTING


def test_adult_cannot_message_a_seventeen_year_old_friend_whose_setting_is_nobody() -> None:
    adult, teen = person(30), person(17)
    befriend(adult, teen)
    assert refused_start(adult, teen) == R.DM_RECIPIENT_SETTING


def test_adult_cannot_message_a_minor_who_is_not_a_friend() -> None:
    adult, teen = person(30), person(17, dm="friends")
    follow(adult, teen)  # one-way: not friends
    assert refused_start(adult, teen) == R.DM_NOT_FRIENDS


def test_adult_cannot_message_an_adult_stranger_whose_setting_is_friends() -> None:
    a, b = person(30), person(31)
    assert refused_start(a, b) == R.DM_NOT_FRIENDS


def test_a_block_either_way_refuses_contact() -> None:
    a, b = friendly_pair()
    block(b, a)
    assert refused_start(a, b) == R.DM_BLOCKED
    assert refused_start(b, a) == R.DM_BLOCKED


@pytest.mark.parametrize("status", ["banned", "under_age_review"])
def test_an_account_that_is_not_active_cannot_send(status: str) -> None:
    a, b = friendly_pair()
    User.objects.change_status(a, status, actor=FACTORY_ACTOR, reason="test")
    assert refused_start(a, b) == R.ACCOUNT_RESTRICTED
    assert refused_start(b, a) == R.RECIPIENT_UNAVAILABLE


def test_a_moderation_dm_restriction_refuses_sending_and_receiving() -> None:
    a, b = friendly_pair()
    restrict_direct_messages(a)
    assert refused_start(a, b) == R.FEATURE_RESTRICTED
    assert refused_start(b, a) == R.RECIPIENT_UNAVAILABLE


def test_a_guardian_who_turned_direct_messages_off_stops_the_teen_sending() -> None:
    teen, parent, friend = person(17, dm="friends"), person(45), person(30)
    befriend(teen, friend)
    link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)
    link = GuardianLink.objects.consent(link, actor=teen)
    GuardianLink.objects.set_limits(
        link, actor=parent, limits=rules.guardianship.GuardianLimits(dm_off=True)
    )
    assert refused_start(teen, friend) == R.GUARDIAN_RESTRICTED
    assert refused_start(friend, teen) == R.DM_RECIPIENT_SETTING


def test_an_adult_whose_setting_is_nobody_may_write_but_cannot_be_answered() -> None:
    """The policy lets an adult with "nobody" write to others, within the other side's rules; the
    reply is refused, and the thread stays open because one side may still write."""
    writer, reader = person(30, dm="nobody"), person(30, dm="everyone")
    thread = direct_thread(writer, reader)
    send(writer, thread)
    with pytest.raises(PolicyViolation) as refused:
        send(reader, thread)
    assert refused.value.code == R.DM_RECIPIENT_SETTING
    thread.refresh_from_db()
    assert not thread.locked


# --- what a refusal leaves behind ---------------------------------------------------------------------


def test_a_refused_start_records_a_refused_contact_attempt_and_creates_nothing() -> None:
    adult, teen = person(30), person(14)
    refused_start(adult, teen)
    attempt = RefusedContactAttempt.objects.by_sender(adult).get()
    assert (attempt.recipient, attempt.action, attempt.reason) == (
        teen,
        RefusedContactAttempt.Action.START,
        R.DM_RECIPIENT_UNDER_16,
    )
    assert attempt.sent_via == f"user:{adult.pk}"
    assert not Thread.objects.for_user(adult).exists()


def test_a_refused_send_records_an_attempt_and_no_message() -> None:
    writer, reader = person(30, dm="nobody"), person(30, dm="everyone")
    thread = direct_thread(writer, reader)
    with pytest.raises(PolicyViolation):
        send(reader, thread, "can you hear me")
    assert not Message.objects.in_thread(thread).exists()
    attempt = RefusedContactAttempt.objects.against(writer).get()
    assert (attempt.sender, attempt.thread, attempt.action) == (
        reader,
        thread,
        RefusedContactAttempt.Action.SEND,
    )


def test_when_a_send_finds_both_sides_refused_the_thread_is_locked() -> None:
    """A cause that reached messaging without a signal (here a restriction row written directly)
    is caught by the next send: refused, and the thread locked for both sides."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    restrict_direct_messages(b)
    with pytest.raises(PolicyViolation) as refused:
        send(a, thread)
    assert refused.value.code == R.RECIPIENT_UNAVAILABLE
    thread.refresh_from_db()
    assert thread.locked
    assert (thread.locked_reason, thread.locked_source) == (
        R.RECIPIENT_UNAVAILABLE,
        Thread.LockSource.SEND_CHECK,
    )
    with pytest.raises(PolicyViolation) as again:
        send(a, thread)
    assert again.value.code == "thread_locked"


# --- who may act -------------------------------------------------------------------------------------


def test_only_a_participant_can_post() -> None:
    a, b = friendly_pair()
    outsider = person(30)
    thread = direct_thread(a, b)
    with pytest.raises(NotPermitted):
        send(outsider, thread)


def test_a_person_cannot_send_as_someone_else() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with pytest.raises(NotPermitted):
        Message.objects.send(sender=a, thread=thread, body="not me", actor=b)


def test_sending_without_an_actor_is_refused() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with pytest.raises(TypeError):
        Message.objects.send(sender=a, thread=thread, body="x", actor=None)
    with pytest.raises(TypeError):
        Message.objects.send(sender=a, thread=thread, body="x")  # type: ignore[call-arg]


def test_sending_into_an_unknown_thread_is_bad_input() -> None:
    a = person(30)
    with pytest.raises(DomainError) as bad:
        Message.objects.send(sender=a, thread=987654321, body="x", actor=a)
    assert "thread" in bad.value.fields
