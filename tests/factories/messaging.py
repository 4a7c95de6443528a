"""Messaging set-up through the real doors: follows, blocks, threads and messages.

Every helper goes through the managers (never `objects.create`), so a test's set-up obeys the same
rules as production and writes the same audit entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import SafetySettings, User
from messaging.models import Block, Connection, Message, Thread
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
    return Thread.objects.start(
        creator=creator, participants=list(members), actor=creator, kind="group", title=title
    )


def send(sender: User, thread: Thread, body: str = "hello") -> Message:
    return Message.objects.send(sender=sender, thread=thread, body=body, actor=sender)


def friendly_pair(age_a: int = 30, age_b: int = 30) -> tuple[User, User]:
    """Two people who may message each other: friends, DMs open to friends."""
    a = person(age_a, dm="friends")
    b = person(age_b, dm="friends")
    befriend(a, b)
    return a, b
