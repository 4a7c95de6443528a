"""Messaging set-up through the real doors: follows, blocks, threads and messages.

Every helper goes through the managers (never `objects.create`), so a test's set-up obeys the same
rules as production and writes the same audit entries; the one exception says so in its name and
docstring (`restrict_direct_messages`, a bare restriction row that no thread has reacted to yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.facts import facts_of
from accounts.models import Restriction, SafetySettings, User
from messaging.models import Block, Connection, GroupInvite, Message, Thread
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.accounts import FACTORY_ACTOR, AppUserFactory, birthdate_for_age


def person(age: int, *, dm: str | None = None, country: str = "GB", **kwargs: object) -> User:
    """An app user exactly `age` years old today (30 days past their birthday); `dm` sets their
    own DM setting (within their tier's ceiling).

    Never a random age: the birthdate comes from `birthdate_for_age(age)`, which is also what
    `AppUserFactory(age=...)` derives (only `AppUserFactory()` with no age picks one at random,
    13-60). A caller may pass `birthdate=` instead, to stand someone on a birthday edge.
    """
    kwargs.setdefault("birthdate", birthdate_for_age(age))
    user = AppUserFactory(country=country, **kwargs)
    if dm is not None:
        SafetySettings.objects.change(user, actor=FACTORY_ACTOR, dm_setting=dm)
    return user


def follow(follower: User, followee: User) -> Connection:
    return Connection.objects.follow(follower=follower, followee=followee, actor=follower)


def befriend(a: User, b: User) -> None:
    """A mutual follow (POLICY.md §3 "friends")."""
    follow(a, b)
    follow(b, a)


def befriend_all(center: User, others: Iterable[User]) -> None:
    for other in others:
        befriend(center, other)


def block(blocker: User, blocked: User) -> Block:
    return Block.objects.block(blocker=blocker, blocked=blocked, actor=blocker)


def direct_thread(creator: User, other: User) -> Thread:
    return Thread.objects.start(creator=creator, participants=[other], actor=creator)


def group_thread(creator: User, members: Iterable[User], *, title: str = "") -> Thread:
    """A group as the app makes one (POLICY.md §7.4): started with the members who may be added,
    then the 16-17-year-olds invited by the creator, each accepting."""
    now, today = clock.now(), clock.today()
    members = list(members)
    invited = [
        m
        for m in members
        if rules.contact.joins_groups_by_invite_only(facts_of(m, at=now, on=today), on=today)
    ]
    direct = [m for m in members if m not in invited]
    if not direct:
        raise ValueError("a group starts with at least one member who is not 16-17")
    thread = Thread.objects.start(
        creator=creator, participants=direct, actor=creator, kind="group", title=title
    )
    for teen in invited:
        invite_and_accept(thread, teen, invited_by=creator)
    return thread


def invite_and_accept(thread: Thread, teen: User, *, invited_by: User) -> GroupInvite:
    invite = GroupInvite.objects.send(
        thread=thread, invitee=teen, invited_by=invited_by, actor=invited_by
    )
    return GroupInvite.objects.accept(invite, invitee=teen, actor=teen)


def send(sender: User, thread: Thread, body: str = "hello") -> Message:
    return Message.objects.send(sender=sender, thread=thread, body=body, actor=sender)


def friendly_pair(age_a: int = 30, age_b: int = 30) -> tuple[User, User]:
    """Two people who may message each other: friends, DMs open to friends."""
    a = person(age_a, dm="friends")
    b = person(age_b, dm="friends")
    befriend(a, b)
    return a, b


def restrict_direct_messages(user: User) -> Restriction:
    """A moderation DM restriction in force now, written as a bare row: no signal is sent, so no
    thread reacts until a door next asks the policy (or a test calls the reaction itself)."""
    now = clock.now()
    return Restriction.objects.create(
        user=user,
        kind=Restriction.Kind.FEATURE,
        feature=rules.vocabulary.Feature.DIRECT_MESSAGES,
        reason="test: DM restriction",
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(days=7),
        created_at=now,
    )
