"""How a thread asks the policy (POLICY.md §3): gather the facts once, then apply the pure rules.

The rules are `rules.contact.can_direct_message` and `can_join_group`; nothing here re-implements
one. This module decides only which question to ask about a thread and whom to ask it about:

- a **direct** thread between A and B: a send from A asks `can_direct_message(A -> B)`. The thread as
  a whole is refused (and gets locked) when neither may message the other any more. An adult whose
  own setting is "nobody" may still write to others (policy docstring), so a thread where only one
  side may write stays open and each send is judged on its own.
- a **group** thread: every member must pass `can_join_group` with the person who added them (a
  16-17-year-old only when added by a friend, no one under 16, no blocks between members, ...).
  The creator joins on their own account: they are asked about as their own adder and friend, so
  their account state, age, guardian and DM setting count and "added by a friend" does not. A send
  is allowed when every member still passes; if anyone no longer does, the thread is refused.

Facts come from `accounts.facts.facts_for` (three queries for any number of people); friendships
and blocks come with the participant rows (one query, `snapshot.participant_rows`), so judging a
thread costs four queries whatever its size and whatever the history of the people in it. A send,
the hot path, reads rows and facts together in one query (`snapshot.send_snapshot`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, Value

from accounts.facts import facts_for
from safety_portal import rules

from .registry import block_model, connection_model
from .snapshot import ParticipantRow, participant_rows

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Thread

Reason = rules.vocabulary.Reason
THREAD_LOCKED = "thread_locked"


@dataclass(frozen=True)
class Member:
    """One participant as the rules see them."""

    user_id: int
    added_by_id: int
    friend_of_adder: bool  # each follows the other; False for the creator (nobody follows self)
    blocked_in_thread: bool  # a block, either way, between them and anyone else in the thread

    @property
    def joined_on_own_account(self) -> bool:
        return self.added_by_id == self.user_id


@dataclass(frozen=True)
class ThreadView:
    """A thread (real, or about to be created or joined) with everything its rules need."""

    kind: str
    members: tuple[Member, ...]  # in join order; the creator first
    facts: Mapping[int, rules.capabilities.UserFacts]
    on: dt.date

    def member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    @property
    def pair(self) -> tuple[Member, Member]:
        first, second = self.members
        return first, second

    @property
    def are_friends(self) -> bool:
        """Direct threads: the one added by the other is their friend (mutual follow)."""
        return any(m.friend_of_adder for m in self.members if not m.joined_on_own_account)

    @property
    def blocked(self) -> bool:
        return any(m.blocked_in_thread for m in self.members)


@dataclass(frozen=True)
class Refusal:
    """Why something is refused, and whom it is about (None when it is about the thread)."""

    reason: str
    user_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """The answer to one start, add or send: refused with `reason` or allowed (None).

    `lock` is set when the thread as a whole is now refused, so the thread must be locked whatever
    happens to this attempt (POLICY.md §3: "a thread that gains a participant who may not be in it,
    or whose participant's circumstances change, is locked").
    """

    reason: str | None = None
    about: int | None = None
    lock: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


ALLOWED = Outcome()


# --------------------------------------------------------------------------------------------------
# The questions (pure: no database)
# --------------------------------------------------------------------------------------------------


def _unavailable(user_id: int) -> Refusal:
    # A participant without age facts (a staff account smuggled into a thread) cannot be judged,
    # so they count as unreachable rather than as allowed.
    return Refusal(Reason.RECIPIENT_UNAVAILABLE.value, user_id)


def direct_decision(view: ThreadView, sender_id: int) -> Refusal | None:
    """`can_direct_message(sender -> the other)` for a direct thread (POLICY.md §3)."""
    first, second = view.pair
    other = second if first.user_id == sender_id else first
    sender_facts, other_facts = view.facts.get(sender_id), view.facts.get(other.user_id)
    if sender_facts is None:
        return _unavailable(sender_id)
    if other_facts is None:
        return _unavailable(other.user_id)
    decision = rules.contact.can_direct_message(
        sender_facts,
        other_facts,
        are_friends=view.are_friends,
        blocked=view.blocked,
        on=view.on,
    )
    return None if decision.allowed else Refusal(str(decision.reason), other.user_id)


def membership_decision(view: ThreadView, member: Member) -> Refusal | None:
    """`can_join_group` for one member of a group, with the person who added them (POLICY.md §3)."""
    facts = view.facts.get(member.user_id)
    if facts is None:
        return _unavailable(member.user_id)
    if member.joined_on_own_account:
        adder, adder_is_friend = facts, True
    else:
        adder, adder_is_friend = view.facts.get(member.added_by_id), member.friend_of_adder
    decision = rules.contact.can_join_group(
        facts,
        added_by=adder,
        added_by_is_friend=adder_is_friend,
        blocked_with_any_member=member.blocked_in_thread,
        on=view.on,
    )
    return None if decision.allowed else Refusal(str(decision.reason), member.user_id)


def thread_refusal(view: ThreadView, *, skip: Iterable[int] = ()) -> Refusal | None:
    """Why the thread as a whole would now be refused, or None (the locking rule of §3)."""
    if view.kind == "direct":
        first, second = view.pair
        forward = direct_decision(view, first.user_id)
        if forward is None or direct_decision(view, second.user_id) is None:
            return None
        return Refusal(forward.reason, None)
    skipped = set(skip)
    for member in view.members:
        if member.user_id in skipped:
            continue
        refusal = membership_decision(view, member)
        if refusal is not None:
            return refusal
    return None


def send_outcome(view: ThreadView, sender_id: int) -> Outcome:
    """May `sender_id` post in this (unlocked) thread now?

    Direct: the policy's answer for sender -> other; the thread is locked too when the other way is
    refused as well. Group: the sender's own membership first (their reason code, and the thread is
    locked since a member may no longer be in it), then every other member (the sender is told
    `thread_locked`, which does not reveal what changed for whom; the lock records it).
    """
    if view.kind == "direct":
        refusal = direct_decision(view, sender_id)
        if refusal is None:
            return ALLOWED
        whole = thread_refusal(view)
        return Outcome(refusal.reason, refusal.user_id, whole)
    sender = view.member(sender_id)
    assert sender is not None, "the caller checks that the sender is a participant"
    own = membership_decision(view, sender)
    if own is not None:
        return Outcome(own.reason, None, own)
    other = thread_refusal(view, skip=[sender_id])
    if other is not None:
        return Outcome(THREAD_LOCKED, other.user_id, other)
    return ALLOWED


def start_outcome(view: ThreadView) -> Outcome:
    """May the creator (first member) start this thread? Nothing exists yet, so nothing locks."""
    creator = view.members[0]
    if view.kind == "direct":
        refusal = direct_decision(view, creator.user_id)
        return ALLOWED if refusal is None else Outcome(refusal.reason, refusal.user_id)
    refusal = thread_refusal(view)
    if refusal is None:
        return ALLOWED
    about = None if refusal.user_id == creator.user_id else refusal.user_id
    return Outcome(refusal.reason, about)


def add_outcome(
    current: ThreadView, after: ThreadView, *, new_user_id: int, added_by_id: int
) -> Outcome:
    """May `added_by_id` add `new_user_id` to this group? `after` is the group with them in it.

    The adder's own standing first (their code; the thread locks, as for a send), then the new
    member (their code; nothing locks, they were never in), then everyone else (thread_locked).
    """
    adder = current.member(added_by_id)
    assert adder is not None, "the caller checks that the adder is a participant"
    own = membership_decision(current, adder)
    if own is not None:
        return Outcome(own.reason, None, own)
    newcomer = after.member(new_user_id)
    assert newcomer is not None
    refusal = membership_decision(after, newcomer)
    if refusal is not None:
        return Outcome(refusal.reason, new_user_id)
    other = thread_refusal(current, skip=[added_by_id])
    if other is not None:
        return Outcome(THREAD_LOCKED, other.user_id, other)
    return ALLOWED


def invite_required(view: ThreadView, user_ids: Iterable[int]) -> Outcome | None:
    """Refused with `group_invite_required` when one of `user_ids` may join a group only by
    accepting an invite (POLICY.md §7.4) and is being added directly; None otherwise."""
    for uid in user_ids:
        if rules.contact.joins_groups_by_invite_only(view.facts[uid], on=view.on):
            return Outcome(Reason.GROUP_INVITE_REQUIRED.value, uid)
    return None


# --------------------------------------------------------------------------------------------------
# Gathering the facts (constant number of queries)
# --------------------------------------------------------------------------------------------------


def member_of(row: ParticipantRow) -> Member:
    return Member(
        user_id=row.user_id,
        added_by_id=row.added_by_id,
        friend_of_adder=row.follows_adder and row.followed_by_adder,
        blocked_in_thread=row.blocked_in_thread,
    )


def gather_facts(
    users: Iterable[User], *, at: dt.datetime, on: dt.date
) -> dict[int, rules.capabilities.UserFacts]:
    """`facts_for` of distinct users (three queries)."""
    distinct = {u.pk: u for u in users}
    return facts_for(distinct.values(), at=at, on=on)


@dataclass
class LoadedThread:
    thread: Thread
    rows: list[ParticipantRow]
    view: ThreadView


def load_threads(
    thread_ids: Sequence[int],
    *,
    at: dt.datetime,
    on: dt.date,
    extra_users: Iterable[User] = (),
) -> dict[int, LoadedThread]:
    """Threads with their views, in four queries however many threads and people."""
    rows = participant_rows(thread_ids)
    facts = gather_facts([*(r.user for r in rows), *extra_users], at=at, on=on)
    grouped: dict[int, list[ParticipantRow]] = {}
    for row in rows:
        grouped.setdefault(row.thread.pk, []).append(row)
    return {
        thread_id: LoadedThread(
            thread=group[0].thread,
            rows=group,
            view=ThreadView(
                kind=group[0].thread.kind,
                members=tuple(member_of(r) for r in group),
                facts=facts,
                on=on,
            ),
        )
        for thread_id, group in grouped.items()
    }


@dataclass(frozen=True)
class Relations:
    """Follows and blocks among a small set of people (one query)."""

    follows: frozenset[tuple[int, int]]
    blocks: frozenset[tuple[int, int]]

    def friends(self, a: int, b: int) -> bool:
        return (a, b) in self.follows and (b, a) in self.follows

    def blocked(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks


def relations_among(user_ids: Iterable[int], *, with_ids: Iterable[int] | None = None) -> Relations:
    """Follows and blocks between `user_ids` and `with_ids` (default: among `user_ids`)."""
    left = sorted(set(user_ids))
    right = left if with_ids is None else sorted(set(with_ids))
    follows = (
        connection_model()
        .objects.filter(
            Q(follower_id__in=left, followee_id__in=right)
            | Q(follower_id__in=right, followee_id__in=left)
        )
        .annotate(kind=Value("f"))
        .values_list("follower_id", "followee_id", "kind")
    )
    blocks = (
        block_model()
        .objects.filter(
            Q(blocker_id__in=left, blocked_id__in=right)
            | Q(blocker_id__in=right, blocked_id__in=left)
        )
        .annotate(kind=Value("b"))
        .values_list("blocker_id", "blocked_id", "kind")
    )
    found_follows: set[tuple[int, int]] = set()
    found_blocks: set[tuple[int, int]] = set()
    for a, b, kind in follows.union(blocks, all=True):
        (found_follows if kind == "f" else found_blocks).add((a, b))
    return Relations(frozenset(found_follows), frozenset(found_blocks))


def new_thread_view(
    *,
    kind: str,
    creator_id: int,
    other_ids: Sequence[int],
    relations: Relations,
    facts: Mapping[int, rules.capabilities.UserFacts],
    on: dt.date,
) -> ThreadView:
    """The view of a thread about to be started: the creator adds everyone else."""
    everyone = [creator_id, *other_ids]

    def blocked(uid: int) -> bool:
        return any(relations.blocked(uid, other) for other in everyone if other != uid)

    members = [Member(creator_id, creator_id, False, blocked(creator_id))]
    members += [
        Member(uid, creator_id, relations.friends(uid, creator_id), blocked(uid))
        for uid in other_ids
    ]
    return ThreadView(kind=kind, members=tuple(members), facts=facts, on=on)


def with_newcomer(
    view: ThreadView, *, new_user_id: int, added_by_id: int, relations: Relations
) -> ThreadView:
    """The view of a group after `added_by_id` adds `new_user_id`."""
    blocked_with = {m.user_id for m in view.members if relations.blocked(new_user_id, m.user_id)}
    members = [
        Member(
            m.user_id,
            m.added_by_id,
            m.friend_of_adder,
            m.blocked_in_thread or m.user_id in blocked_with,
        )
        for m in view.members
    ]
    members.append(
        Member(
            new_user_id,
            added_by_id,
            relations.friends(new_user_id, added_by_id),
            bool(blocked_with),
        )
    )
    return ThreadView(kind=view.kind, members=tuple(members), facts=view.facts, on=view.on)
