"""Threads react to change (issue 3): refused threads lock, messages stay, unlocking is explicit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from accounts.models import BirthdateChangeRequest, GuardianLink, SafetySettings, User
from messaging.models import Block, Connection, Message, Thread
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import Conflict, DomainError, PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR, StaffFactory
from tests.factories.messaging import (
    befriend,
    block,
    direct_thread,
    friendly_pair,
    group_thread,
    person,
    restrict_direct_messages,
    send,
)

pytestmark = pytest.mark.django_db

R = rules.vocabulary.Reason
Source = Thread.LockSource


def reload(thread: Thread) -> Thread:
    return Thread.objects.get(pk=thread.pk)


def assert_locked(thread: Thread, reason: str, source: str) -> Thread:
    thread = reload(thread)
    assert thread.locked, f"{thread} should be locked"
    assert (thread.locked_reason, thread.locked_source) == (reason, source)
    assert thread.locked_at is not None
    return thread


def correct_birthdate(user: User, *, to_age: int) -> None:
    """A younger correction: applied at once (POLICY.md §4)."""
    new = rules.ages.latest_birthdate_for_age(to_age, clock.today()) - dt.timedelta(days=40)
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=new,
        method=rules.vocabulary.AssuranceMethod.GUARDIAN_VOUCH,
        evidence_reference="ticket:1",
        reason="Parent wrote in with the right year.",
        actor=FACTORY_ACTOR,
    )


# --- causes -------------------------------------------------------------------------------------


def test_a_block_locks_every_thread_the_two_share_and_keeps_the_messages(audit_actions) -> None:
    a, b = friendly_pair()
    c = person(30, dm="everyone")
    thread = direct_thread(a, b)
    group = group_thread(a, [b, c])
    kept = send(a, thread, "before the block")
    block(b, a)
    assert_locked(thread, R.DM_BLOCKED, Source.BLOCK)
    assert_locked(group, R.DM_BLOCKED, Source.BLOCK)
    assert list(Message.objects.in_thread(thread)) == [kept]
    with pytest.raises(PolicyViolation) as refused:
        send(a, thread)
    assert refused.value.code == "thread_locked"
    locks = audit_actions("messaging.thread.locked")
    assert {e.target_id for e in locks} == {str(thread.pk), str(group.pk)}
    assert all(e.actor_id == str(b.pk) for e in locks)


def test_a_block_leaves_threads_without_the_other_person_alone() -> None:
    a, b = friendly_pair()
    c = person(30, dm="friends")
    befriend(a, c)
    other = direct_thread(a, c)
    block(a, b)
    assert not reload(other).locked


def test_unblocking_does_not_reopen_a_thread() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    block(a, b)
    assert Block.objects.unblock(blocker=a, blocked=b, actor=a)
    assert reload(thread).locked


def test_an_ended_friendship_locks_a_sixteen_year_olds_thread() -> None:
    adult, teen = person(30), person(16, dm="friends")
    befriend(adult, teen)
    thread = direct_thread(teen, adult)
    Connection.objects.unfollow(follower=teen, followee=adult, actor=teen)
    assert_locked(thread, R.DM_NOT_FRIENDS, Source.UNFOLLOW)
    # Following again does not reopen it.
    Connection.objects.follow(follower=teen, followee=adult, actor=teen)
    assert reload(thread).locked


def test_an_ended_friendship_between_open_adults_leaves_their_thread_open() -> None:
    a, b = person(30, dm="everyone"), person(30, dm="everyone")
    befriend(a, b)
    thread = direct_thread(a, b)
    Connection.objects.unfollow(follower=a, followee=b, actor=a)
    assert not reload(thread).locked


def test_a_friendship_ending_with_the_friend_who_added_a_teen_locks_the_group() -> None:
    creator, teen = person(30), person(17, dm="friends")
    befriend(creator, teen)
    group = group_thread(creator, [teen, person(30, dm="everyone")])
    Connection.objects.unfollow(follower=creator, followee=teen, actor=creator)
    assert_locked(group, R.GROUP_ADD_NOT_FRIEND, Source.UNFOLLOW)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("restricted", R.ACCOUNT_RESTRICTED),
        ("suspended", R.ACCOUNT_RESTRICTED),
        ("banned", R.ACCOUNT_RESTRICTED),
        ("under_age_review", R.UNDER_MINIMUM_AGE),
    ],
)
def test_an_account_that_stops_being_active_locks_all_its_threads(status: str, reason: str) -> None:
    a, b = friendly_pair()
    c = person(30, dm="everyone")
    thread, group = direct_thread(a, b), group_thread(b, [a, c])
    bystander = direct_thread(b, c)
    User.objects.change_status(a, status, actor=FACTORY_ACTOR, reason="test")
    assert_locked(thread, reason, Source.ACCOUNT_STATUS)
    assert_locked(group, reason, Source.ACCOUNT_STATUS)
    assert not reload(bystander).locked


def test_returning_to_active_does_not_reopen_threads() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    User.objects.change_status(a, "banned", actor=FACTORY_ACTOR, reason="test")
    User.objects.change_status(a, "active", actor=FACTORY_ACTOR, reason="appeal upheld")
    assert reload(thread).locked


def test_lock_all_for_user_returns_exactly_the_threads_it_locked(audit_actions) -> None:
    """The ids a caller records (a decision's effects) come from the call, not from a re-query:
    threads already locked, and threads the person is not in, are not among them."""
    a, b = friendly_pair()
    c = person(30, dm="everyone")
    first, group = direct_thread(a, b), group_thread(b, [a, c])
    already = direct_thread(a, c)
    Thread.objects.lock(already, reason="harassment", actor=FACTORY_ACTOR, source="staff")
    bystander = direct_thread(b, c)
    with transaction.atomic():
        locked = Thread.objects.lock_all_for_user(
            a, reason=R.ACCOUNT_RESTRICTED.value, source=Source.MODERATION, actor=FACTORY_ACTOR
        )
        again = Thread.objects.lock_all_for_user(
            a, reason=R.ACCOUNT_RESTRICTED.value, source=Source.MODERATION, actor=FACTORY_ACTOR
        )
    assert locked == sorted([first.pk, group.pk])
    assert again == []
    assert reload(already).locked_reason == "harassment"  # the first lock's reason stays
    assert not reload(bystander).locked
    entries = audit_actions("messaging.thread.locked")
    assert sorted(int(e.target_id) for e in entries) == sorted([already.pk, first.pk, group.pk])


def test_the_status_change_receiver_locks_what_lock_for_account_status_locks_and_no_more(
    audit_actions,
) -> None:
    """A caller that locks first and then changes the status gets the ids; the `status_changed`
    receiver then finds nothing left to lock and writes nothing."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with transaction.atomic():
        locked = Thread.objects.lock_for_account_status(
            a, old_status="active", new_status="suspended", actor=FACTORY_ACTOR
        )
        User.objects.change_status(a, "suspended", actor=FACTORY_ACTOR, reason="test")
    assert locked == [thread.pk]
    assert_locked(thread, R.ACCOUNT_RESTRICTED, Source.ACCOUNT_STATUS)
    assert len(audit_actions("messaging.thread.locked")) == 1
    with transaction.atomic():
        assert (
            Thread.objects.lock_for_account_status(
                b, old_status="banned", new_status="active", actor=FACTORY_ACTOR
            )
            == []
        )


def test_relock_for_user_returns_the_threads_the_policy_now_refuses() -> None:
    """What the restriction receiver runs, called directly: the ids it locked, nothing else."""
    a, b = friendly_pair()
    c = person(30, dm="everyone")
    refused, other = direct_thread(a, b), direct_thread(b, c)
    restrict_direct_messages(a)  # a bare row: no signal, so nothing has locked yet
    assert not reload(refused).locked
    with transaction.atomic():
        locked = Thread.objects.relock_for_user(a, source=Source.RESTRICTIONS, actor=FACTORY_ACTOR)
        again = Thread.objects.relock_for_user(a, source=Source.RESTRICTIONS, actor=FACTORY_ACTOR)
    assert (locked, again) == ([refused.pk], [])
    assert_locked(refused, R.FEATURE_RESTRICTED, Source.RESTRICTIONS)
    assert not reload(other).locked


def test_a_birthdate_corrected_to_seventeen_locks_threads_with_adult_strangers() -> None:
    """An adult-to-adult thread without friendship is allowed; once one of them is 17 it is not."""
    stranger, corrected, friend = person(30, dm="everyone"), person(19, dm="everyone"), person(30)
    befriend(corrected, friend)
    with_stranger = direct_thread(stranger, corrected)
    with_friend = direct_thread(corrected, friend)
    correct_birthdate(corrected, to_age=17)
    assert_locked(with_stranger, R.DM_NOT_FRIENDS, Source.BIRTHDATE)
    assert not reload(with_friend).locked  # a 17-year-old friend whose setting is now "friends"


def test_a_birthdate_corrected_to_fifteen_locks_every_thread() -> None:
    a, b = friendly_pair(age_a=16)
    thread = direct_thread(a, b)
    correct_birthdate(a, to_age=15)
    assert_locked(thread, R.DM_SENDER_UNDER_16, Source.BIRTHDATE)


def test_a_stricter_dm_setting_locks_the_threads_it_now_refuses() -> None:
    teen, adult = person(17, dm="friends"), person(30)
    befriend(teen, adult)
    thread = direct_thread(adult, teen)
    SafetySettings.objects.change(teen, actor=teen, dm_setting="nobody")
    assert_locked(thread, R.DM_RECIPIENT_SETTING, Source.RESTRICTIONS)


def test_a_guardian_turning_dms_off_locks_the_teens_threads() -> None:
    teen, adult, parent = person(16, dm="friends"), person(30), person(45)
    befriend(teen, adult)
    thread = direct_thread(teen, adult)
    link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=teen)
    link = GuardianLink.objects.consent(link, actor=parent)
    GuardianLink.objects.set_limits(
        link, actor=parent, limits=rules.guardianship.GuardianLimits(dm_off=True)
    )
    assert_locked(thread, R.GUARDIAN_RESTRICTED, Source.RESTRICTIONS)


# --- explicit lock and unlock ------------------------------------------------------------------------


def test_staff_lock_records_reason_and_source_and_is_idempotent(audit_actions) -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    moderator = StaffFactory(roles=["Moderator"])
    Thread.objects.lock(
        thread, reason="grooming_signal", actor=moderator, source="moderation", detail="case 12"
    )
    Thread.objects.lock(thread, reason="other", actor=moderator, source="staff")
    thread = assert_locked(thread, "grooming_signal", Source.MODERATION)
    assert thread.locked_detail == "case 12"
    assert len(audit_actions("messaging.thread.locked")) == 1


def test_a_lock_needs_a_reason_and_a_known_source() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with pytest.raises(DomainError) as bad:
        Thread.objects.lock(thread, reason="", actor=a, source="gut_feeling")
    assert set(bad.value.fields) == {"reason", "source"}


def test_unlock_is_explicit_audited_and_reopens_the_thread(audit_actions) -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    block(a, b)
    from messaging.models import Block

    Block.objects.unblock(blocker=a, blocked=b, actor=a)
    moderator = StaffFactory(roles=["Moderator"])
    thread = Thread.objects.unlock(thread, actor=moderator, reason="Both asked; block lifted.")
    assert (thread.locked, thread.locked_reason, thread.locked_at) == (False, "", None)
    assert send(b, thread).pk
    (entry,) = audit_actions("messaging.thread.unlocked")
    assert entry.reason == "Both asked; block lifted."
    assert entry.before["locked_reason"] == R.DM_BLOCKED


def test_unlock_is_refused_while_the_policy_still_refuses_the_thread() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    block(a, b)
    with pytest.raises(PolicyViolation) as refused:
        Thread.objects.unlock(thread, actor=StaffFactory(), reason="please")
    assert refused.value.code == R.DM_BLOCKED
    assert reload(thread).locked


def test_unlock_needs_a_reason_and_a_locked_thread() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with pytest.raises(Conflict):
        Thread.objects.unlock(thread, actor=a, reason="nothing to do")
    with pytest.raises(DomainError):
        Thread.objects.unlock(thread, actor=a, reason="  ")


def test_a_locked_direct_thread_cannot_be_routed_round_by_starting_again() -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    Thread.objects.lock(thread, reason="harassment", actor=FACTORY_ACTOR, source="staff")
    with pytest.raises(PolicyViolation) as refused:
        direct_thread(b, a)
    assert refused.value.code == "thread_locked"
