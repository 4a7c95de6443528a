"""Group threads follow POLICY.md §3 and §7.4: no one under 16, 16-17 only by accepting a friend's
invite."""

from __future__ import annotations

import pytest

from messaging.limits import MAX_GROUP_PARTICIPANTS
from messaging.models import (
    Connection,
    GroupInvite,
    RefusedContactAttempt,
    Thread,
    ThreadParticipant,
)
from safety_portal import rules
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation
from tests.factories.messaging import (
    befriend,
    befriend_all,
    block,
    direct_thread,
    friendly_pair,
    group_thread,
    invite_and_accept,
    person,
    send,
)

pytestmark = pytest.mark.django_db

R = rules.vocabulary.Reason


def refused_group(creator, members) -> str:
    with pytest.raises(PolicyViolation) as refused:
        group_thread(creator, members)
    return refused.value.code


def refused_add(thread, user, added_by) -> str:
    with pytest.raises(PolicyViolation) as refused:
        Thread.objects.add_participant(thread, user=user, added_by=added_by, actor=added_by)
    return refused.value.code


def test_an_adult_starts_a_group_with_friends_and_everyone_can_post() -> None:
    creator, a, b = person(30), person(25), person(17, dm="friends")
    befriend_all(creator, [a, b])
    thread = group_thread(creator, [a, b], title="Climbing Saturday")
    assert thread.kind == Thread.Kind.GROUP
    assert set(thread.members.all()) == {creator, a, b}
    rows = ThreadParticipant.objects.of_thread(thread)
    assert [r.added_by_id for r in rows] == [creator.pk] * 3
    for who in (creator, a, b):
        send(who, thread, f"hi from {who}")


def test_two_others_make_a_group_without_saying_so() -> None:
    creator, a, b = person(30), person(30, dm="everyone"), person(30, dm="everyone")
    thread = Thread.objects.start(creator=creator, participants=[a, b], actor=creator)
    assert thread.kind == Thread.Kind.GROUP


def test_nobody_under_sixteen_is_in_a_group_even_with_friends() -> None:
    creator, teen = person(30), person(15)
    befriend(creator, teen)
    assert refused_group(creator, [teen, person(30, dm="everyone")]) == R.GROUP_MEMBER_UNDER_16


def test_someone_under_sixteen_cannot_start_a_group() -> None:
    creator, a = person(15), person(30, dm="everyone")
    assert refused_group(creator, [a, person(30, dm="everyone")]) == R.GROUP_MEMBER_UNDER_16


def test_a_sixteen_year_old_is_added_only_by_a_friend() -> None:
    stranger, teen, other = person(30), person(16, dm="friends"), person(30, dm="everyone")
    assert refused_group(stranger, [teen, other]) == R.GROUP_ADD_NOT_FRIEND
    befriend(stranger, teen)
    assert group_thread(stranger, [teen, other]).pk


def test_a_sixteen_year_old_whose_setting_is_nobody_cannot_be_added() -> None:
    friend, teen = person(30), person(16)
    befriend(friend, teen)
    assert refused_group(friend, [teen, person(30, dm="everyone")]) == R.DM_RECIPIENT_SETTING


def test_an_adult_open_to_everyone_can_be_added_by_anyone() -> None:
    creator = person(30)
    assert group_thread(creator, [person(40, dm="everyone"), person(22, dm="everyone")]).pk


def test_a_block_between_any_two_members_refuses_the_group() -> None:
    creator, a, b = person(30), person(30, dm="everyone"), person(30, dm="everyone")
    block(a, b)
    assert refused_group(creator, [a, b]) == R.DM_BLOCKED


def test_a_refused_group_start_records_whom_it_was_about() -> None:
    creator, teen = person(30), person(14)
    refused_group(creator, [person(30, dm="everyone"), teen])
    attempt = RefusedContactAttempt.objects.by_sender(creator).get()
    assert (attempt.recipient, attempt.reason) == (teen, R.GROUP_MEMBER_UNDER_16)


# --- adding people -------------------------------------------------------------------------------


@pytest.fixture
def group():
    creator, a = person(30), person(30, dm="everyone")
    return group_thread(creator, [a, person(30, dm="everyone")]), creator, a


def test_group_invite_a_participant_invites_a_friend_of_sixteen_who_accepts(group) -> None:
    thread, _creator, member = group
    teen = person(16, dm="friends")
    befriend(member, teen)
    invite = invite_and_accept(thread, teen, invited_by=member)
    assert invite.status == GroupInvite.Status.ACCEPTED
    row = ThreadParticipant.objects.get(thread=thread, user=teen)
    assert row.added_by == member
    send(teen, thread, "thanks for inviting me")


def test_group_invite_required_a_friend_of_sixteen_is_never_added_directly(group) -> None:
    """POLICY.md §7.4: 16-17 join a group only by accepting an invite from a friend."""
    thread, _creator, member = group
    teen = person(16, dm="friends")
    befriend(member, teen)
    assert refused_add(thread, teen, member) == R.GROUP_INVITE_REQUIRED
    assert not ThreadParticipant.objects.filter(thread=thread, user=teen).exists()
    attempt = RefusedContactAttempt.objects.by_sender(member).get()
    assert (attempt.recipient, attempt.reason) == (teen, R.GROUP_INVITE_REQUIRED)


def test_group_invite_required_a_group_does_not_start_with_a_sixteen_year_old_in_it() -> None:
    creator, teen = person(30), person(17, dm="friends")
    befriend(creator, teen)
    with pytest.raises(PolicyViolation) as refused:
        Thread.objects.start(
            creator=creator, participants=[teen, person(30, dm="everyone")], actor=creator
        )
    assert refused.value.code == R.GROUP_INVITE_REQUIRED
    assert not Thread.objects.exists()


def test_group_invite_a_pending_invite_adds_nobody_and_a_decline_changes_nothing(group) -> None:
    thread, _creator, member = group
    teen = person(16, dm="friends")
    befriend(member, teen)
    invite = GroupInvite.objects.send(thread=thread, invitee=teen, invited_by=member, actor=member)
    assert not ThreadParticipant.objects.filter(thread=thread, user=teen).exists()
    with pytest.raises(Conflict):
        GroupInvite.objects.send(thread=thread, invitee=teen, invited_by=member, actor=member)
    GroupInvite.objects.decline(invite, invitee=teen, actor=teen)
    assert not ThreadParticipant.objects.filter(thread=thread, user=teen).exists()
    with pytest.raises(Conflict):
        GroupInvite.objects.accept(invite, invitee=teen, actor=teen)


def test_group_invite_is_checked_again_when_accepted(group) -> None:
    """Between the invite and the answer the friendship ended: the accept is refused."""
    thread, _creator, member = group
    teen = person(16, dm="friends")
    befriend(member, teen)
    invite = GroupInvite.objects.send(thread=thread, invitee=teen, invited_by=member, actor=member)
    Connection.objects.unfollow(follower=teen, followee=member, actor=teen)
    with pytest.raises(PolicyViolation) as refused:
        GroupInvite.objects.accept(invite, invitee=teen, actor=teen)
    assert refused.value.code == R.GROUP_ADD_NOT_FRIEND
    assert not ThreadParticipant.objects.filter(thread=thread, user=teen).exists()


def test_group_invite_only_the_invitee_answers_and_only_a_friend_invites(group) -> None:
    thread, creator, member = group
    teen = person(16, dm="friends")
    befriend(creator, teen)
    with pytest.raises(PolicyViolation) as refused:
        GroupInvite.objects.send(thread=thread, invitee=teen, invited_by=member, actor=member)
    assert refused.value.code == R.GROUP_ADD_NOT_FRIEND
    invite = GroupInvite.objects.send(
        thread=thread, invitee=teen, invited_by=creator, actor=creator
    )
    with pytest.raises(NotPermitted):
        GroupInvite.objects.accept(invite, invitee=member, actor=member)


def test_a_participant_cannot_add_a_sixteen_year_old_who_is_not_their_friend(group) -> None:
    thread, creator, member = group
    teen = person(16, dm="friends")
    befriend(creator, teen)  # a friend of someone else in the group does not count
    assert refused_add(thread, teen, member) == R.GROUP_ADD_NOT_FRIEND
    attempt = RefusedContactAttempt.objects.by_sender(member).get()
    assert (attempt.action, attempt.recipient) == (RefusedContactAttempt.Action.ADD, teen)
    thread.refresh_from_db()
    assert not thread.locked


def test_nobody_adds_someone_under_sixteen(group) -> None:
    thread, creator, _member = group
    child = person(13)
    befriend(creator, child)
    assert refused_add(thread, child, creator) == R.GROUP_MEMBER_UNDER_16


def test_nobody_adds_someone_blocked_by_a_member(group) -> None:
    thread, creator, member = group
    newcomer = person(30, dm="everyone")
    block(newcomer, member)
    assert refused_add(thread, newcomer, creator) == R.DM_BLOCKED
    thread.refresh_from_db()
    assert not thread.locked  # the thread as it is did nothing wrong


def test_only_a_participant_adds_people(group) -> None:
    thread, _creator, _member = group
    outsider = person(30)
    with pytest.raises(NotPermitted):
        Thread.objects.add_participant(
            thread, user=person(30, dm="everyone"), added_by=outsider, actor=outsider
        )


def test_adding_someone_already_in_the_thread_is_a_conflict(group) -> None:
    thread, creator, member = group
    with pytest.raises(Conflict):
        Thread.objects.add_participant(thread, user=member, added_by=creator, actor=creator)


def test_nobody_is_added_to_a_direct_thread() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with pytest.raises(DomainError):
        Thread.objects.add_participant(thread, user=person(30, dm="everyone"), added_by=a, actor=a)


def test_a_full_group_refuses_one_more() -> None:
    creator = person(30)
    members = [person(30, dm="everyone") for _ in range(MAX_GROUP_PARTICIPANTS - 1)]
    thread = group_thread(creator, members)
    with pytest.raises(DomainError) as full:
        Thread.objects.add_participant(
            thread, user=person(30, dm="everyone"), added_by=creator, actor=creator
        )
    assert "user" in full.value.fields


def test_adding_to_a_locked_group_is_refused(group) -> None:
    thread, creator, _member = group
    Thread.objects.lock(thread, reason="harassment", actor=creator, source="staff")
    assert refused_add(thread, person(30, dm="everyone"), creator) == "thread_locked"


def test_an_add_that_finds_another_member_no_longer_allowed_locks_the_group(group) -> None:
    """A member smuggled in below the doors (here: their DM setting changed without a signal)
    is found when anyone next acts: the add is refused as thread_locked and the group locks."""
    from accounts.models import SafetySettings

    thread, creator, member = group
    SafetySettings.objects.filter(user=member).update(dm_setting="nobody")  # no signal sent
    assert refused_add(thread, person(30, dm="everyone"), creator) == "thread_locked"
    thread.refresh_from_db()
    assert (thread.locked, thread.locked_reason) == (True, R.DM_RECIPIENT_SETTING)
