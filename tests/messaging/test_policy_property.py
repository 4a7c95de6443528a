"""Property: over random populations, every start and send comes out as the policy table says, and no
message exists that the policy forbade when it was sent (issue 3).

Each example builds a small population through the real doors — birthdates on both sides of the
13/16/18 boundaries (birthday yesterday, today, tomorrow), several countries (AU's minimum age is
16), follows, blocks, statuses backed by restrictions as moderation leaves them, DM settings within
each tier's ceiling, guardians who turned DMs off — then tries random direct and group threads and
sends, applies random changes (blocks, unfollows, stricter settings, bans, younger birthdates) and
tries again.

The oracle computes every answer from the drawn population with the pure rules of
`safety_portal.rules` (friendship and blocks from the drawn follows, facts from the drawn people; only
the stored settings are read back, as the population's state). It also states the locking rule of
POLICY.md §3: after every change, a thread that the policy now refuses as a whole is locked, and no
other thread is. The implementation must agree on every outcome, every reason code, every lock.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import BirthdateChangeRequest, GuardianLink, Restriction, SafetySettings, User
from messaging.limits import MAX_GROUP_PARTICIPANTS
from messaging.models import Block, Connection, GroupInvite, Message, Thread
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR, AppUserFactory

pytestmark = pytest.mark.django_db

R = rules.vocabulary.Reason
# (age, days from the birthday): -1 turned that age yesterday, 0 today, +1 turns it tomorrow.
# Weighted towards people who may message at all, so that refusals are the exception they are.
AGES = [(25, -40), (40, -40), (18, -1), (18, 0), (18, 1), (16, -1), (16, 0), (16, 1), (17, -40)]
AGES += [(25, -40), (33, -40), (17, -40), (13, -1), (13, 0), (13, 1), (14, -40)]
COUNTRIES = ["GB", "AU", "KR", "US", "DE", "FR"]
NOT_ACTIVE = ["restricted", "suspended", "banned", "under_age_review"]
DM_VALUES = ["nobody", "friends", "everyone"]
DM_DRAW = [1, 2, 1, 0]  # index into DM_VALUES, capped at the tier's ceiling
EVENTS = ["block", "unfollow", "follow", "dm_nobody", "ban", "younger"]
_names = itertools.count()


@dataclass
class Person:
    user: User
    birthdate: dt.date
    country: str
    status: str = "active"
    dm_restricted: bool = False
    guardian_dm_off: bool | None = None  # None: no guardian


@dataclass
class ThreadModel:
    thread_id: int
    kind: str
    members: list[tuple[int, int]]  # (person index, added by index), creator first
    locked: bool = False


@dataclass
class World:
    """The drawn population and the oracle's view of it."""

    today: dt.date
    people: list[Person] = field(default_factory=list)
    follows: set[tuple[int, int]] = field(default_factory=set)
    blocks: set[tuple[int, int]] = field(default_factory=set)
    threads: list[ThreadModel] = field(default_factory=list)
    allowed_messages: set[int] = field(default_factory=set)
    _facts: dict[int, rules.capabilities.UserFacts] = field(default_factory=dict)

    # -- facts ------------------------------------------------------------------------------------

    def forget(self) -> None:
        """After a change: facts are rebuilt from the people (and their stored settings)."""
        self._facts.clear()

    def facts(self, i: int) -> rules.capabilities.UserFacts:
        if i not in self._facts:
            self._facts[i] = self._build_facts(i)
        return self._facts[i]

    def _build_facts(self, i: int) -> rules.capabilities.UserFacts:
        p = self.people[i]
        status = rules.vocabulary.AccountStatus(p.status)
        features = set()
        if p.dm_restricted or p.status == "restricted":
            features.add(rules.vocabulary.Feature.DIRECT_MESSAGES)
        stored = SafetySettings.objects.get(user=p.user).as_policy()
        limits = (
            None
            if p.guardian_dm_off is None
            else rules.guardianship.GuardianLimits(p.guardian_dm_off)
        )
        return rules.capabilities.UserFacts(
            birthdate=p.birthdate,
            country=p.country,
            status=status,
            settings=stored,
            guardian_limits=limits,
            restricted_features=frozenset(features),
        )

    def friends(self, a: int, b: int) -> bool:
        return (a, b) in self.follows and (b, a) in self.follows

    def blocked(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    # -- the rules, asked the way POLICY.md §3 states them ------------------------------------------

    def dm(self, sender: int, recipient: int) -> str | None:
        decision = rules.contact.can_direct_message(
            self.facts(sender),
            self.facts(recipient),
            are_friends=self.friends(sender, recipient),
            blocked=self.blocked(sender, recipient),
            on=self.today,
        )
        return None if decision.allowed else str(decision.reason)

    def membership(self, member: int, added_by: int, everyone: list[int]) -> str | None:
        own = member == added_by
        decision = rules.contact.can_join_group(
            self.facts(member),
            added_by=self.facts(added_by),
            added_by_is_friend=own or self.friends(member, added_by),
            blocked_with_any_member=any(self.blocked(member, o) for o in everyone if o != member),
            on=self.today,
        )
        return None if decision.allowed else str(decision.reason)

    def group_refusal(
        self, members: list[tuple[int, int]], *, skip: int | None = None
    ) -> str | None:
        everyone = [m for m, _ in members]
        for member, added_by in members:
            if member == skip:
                continue
            reason = self.membership(member, added_by, everyone)
            if reason is not None:
                return reason
        return None

    def wholly_refused(self, t: ThreadModel) -> bool:
        if t.kind == "direct":
            (a, _), (b, _) = t.members
            return self.dm(a, b) is not None and self.dm(b, a) is not None
        return self.group_refusal(t.members) is not None

    def expected_send(self, t: ThreadModel, sender: int) -> tuple[str | None, bool]:
        """(refusal code or None, whether the thread ends up locked)."""
        if t.locked:
            return "thread_locked", True
        if t.kind == "direct":
            other = next(m for m, _ in t.members if m != sender)
            reason = self.dm(sender, other)
            return reason, reason is not None and self.dm(other, sender) is not None
        added_by = next(a for m, a in t.members if m == sender)
        own = self.membership(sender, added_by, [m for m, _ in t.members])
        if own is not None:
            return own, True
        if self.group_refusal(t.members, skip=sender) is not None:
            return "thread_locked", True
        return None, False

    def relock(self) -> None:
        """POLICY.md §3: after a change, every thread now refused as a whole is locked."""
        for t in self.threads:
            if not t.locked and self.wholly_refused(t):
                t.locked = True

    def check_locks(self) -> None:
        for t in self.threads:
            assert Thread.objects.get(pk=t.thread_id).locked == t.locked, (t, self.people)


# --------------------------------------------------------------------------------------------------
# Building the population through the doors
# --------------------------------------------------------------------------------------------------


def add_person(world: World, data: st.DataObject) -> None:
    base, offset = data.draw(st.sampled_from(AGES), label="age")
    born = rules.ages.latest_birthdate_for_age(base, world.today) + dt.timedelta(days=offset)
    country = data.draw(st.sampled_from(COUNTRIES), label="country")
    if rules.ages.is_below_minimum_age(born, country, world.today):
        country = "GB"
    if rules.ages.is_below_minimum_age(born, country, world.today):
        return  # nobody this young holds an account (POLICY.md §2)
    user = AppUserFactory(username=f"prop{next(_names):06d}", birthdate=born, country=country)
    person = Person(user, born, country)
    tier = rules.ages.tier_on(born, world.today)
    allowed = {rules.vocabulary.Tier.OLDER_TEEN: 2, rules.vocabulary.Tier.ADULT: 3}.get(tier, 1)
    dm = DM_VALUES[min(data.draw(st.sampled_from(DM_DRAW), label="dm"), allowed - 1)]
    SafetySettings.objects.change(user, actor=FACTORY_ACTOR, dm_setting=dm)
    if tier < rules.vocabulary.Tier.ADULT and data.draw(st.integers(0, 4), label="guardian") == 2:
        guardian = AppUserFactory(
            username=f"prop{next(_names):06d}",
            birthdate=rules.ages.latest_birthdate_for_age(40, world.today),
            country=country,
        )
        link = GuardianLink.objects.propose(guardian=guardian, teen=user, actor=guardian)
        link = GuardianLink.objects.consent(link, actor=user)
        dm_off = data.draw(st.booleans(), label="guardian dm off")
        if dm_off:
            GuardianLink.objects.set_limits(
                link, actor=guardian, limits=rules.guardianship.GuardianLimits(True)
            )
        person.guardian_dm_off = dm_off
    # Hypothesis favours the ends of a range, so the rare cases sit in the middle (about 1 in 10).
    status = "active"
    if data.draw(st.integers(0, 9), label="account trouble") == 4:
        status = data.draw(st.sampled_from(NOT_ACTIVE), label="status")
    person.dm_restricted = status == "active" and (
        data.draw(st.integers(0, 9), label="dm restricted") == 5
    )
    now = clock.now()
    if status in ("restricted", "suspended") or person.dm_restricted:
        suspension = status == "suspended"
        Restriction.objects.create(
            user=user,
            kind="suspension" if suspension else "feature",
            feature="" if suspension else rules.vocabulary.Feature.DIRECT_MESSAGES,
            reason="property test",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(days=3),
            created_at=now,
        )
    if status != "active":
        User.objects.change_status(user, status, actor=FACTORY_ACTOR, reason="property test")
    person.status = status
    world.people.append(person)


def build_world(data: st.DataObject, today: dt.date) -> World:
    world = World(today=today)
    for _ in range(data.draw(st.integers(3, 5), label="people")):
        add_person(world, data)
    n = len(world.people)
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    if not pairs:
        return world
    unordered = [(a, b) for a, b in pairs if a < b]
    friends = data.draw(
        st.sets(st.sampled_from(unordered), min_size=len(unordered) // 2), label="friends"
    )
    one_way = data.draw(st.sets(st.sampled_from(pairs), max_size=2), label="one-way follows")
    follows = {*friends, *((b, a) for a, b in friends), *one_way}
    for a, b in sorted(follows):
        Connection.objects.follow(
            follower=world.people[a].user, followee=world.people[b].user, actor=FACTORY_ACTOR
        )
        world.follows.add((a, b))
    blocks = data.draw(st.sets(st.sampled_from(pairs), max_size=1), label="blocks")
    if data.draw(st.integers(0, 4), label="any block") != 2:
        blocks = set()
    for a, b in blocks:
        Block.objects.block(
            blocker=world.people[a].user, blocked=world.people[b].user, actor=FACTORY_ACTOR
        )
        world.blocks.add((a, b))  # follows stay; the block refuses contact regardless
    return world


# --------------------------------------------------------------------------------------------------
# Attempts
# --------------------------------------------------------------------------------------------------


def outcome_of(call) -> tuple[str | None, object]:
    try:
        return None, call()
    except PolicyViolation as refused:
        return refused.code, None


def try_start(world: World, data: st.DataObject) -> None:
    n = len(world.people)
    kind = data.draw(st.sampled_from(["direct", "group"] if n >= 3 else ["direct"]), label="kind")
    size = 2 if kind == "direct" else data.draw(st.integers(3, min(4, n)), label="size")
    order = data.draw(st.permutations(range(n)), label="who")[:size]
    if data.draw(st.booleans(), label="steer towards an allowed start"):
        # Exploration only: most random populations refuse most starts, and the sends and
        # changes after an allowed start are where locks happen. The oracle still decides.
        allowed = [
            list(o)
            for o in itertools.permutations(range(n), size)
            if expected_start(world, kind, list(o)) is None
        ]
        if allowed:
            order = data.draw(st.sampled_from(allowed), label="allowed start")
    creator, others = order[0], list(order[1:])
    user = world.people[creator].user
    existing = existing_direct(world, kind, order)
    expected = expected_start(world, kind, order)
    code, thread = outcome_of(
        lambda: Thread.objects.start(
            creator=user,
            participants=[world.people[o].user for o in others],
            actor=user,
            kind=kind,
        )
    )
    assert code == expected, (kind, order, world.people)
    event(f"start {kind}: {code or 'allowed'}")
    if thread is not None and existing is None:
        world.threads.append(ThreadModel(thread.pk, kind, [(m, creator) for m in order]))


def existing_direct(world: World, kind: str, order: list[int]) -> ThreadModel | None:
    if kind != "direct":
        return None
    pair = set(order)
    return next(
        (t for t in world.threads if t.kind == "direct" and {m for m, _ in t.members} == pair),
        None,
    )


def expected_start(world: World, kind: str, order: list[int]) -> str | None:
    creator = order[0]
    if kind == "direct":
        existing = existing_direct(world, kind, order)
        if existing is not None and existing.locked:
            return "thread_locked"
        return world.dm(creator, order[1])
    refusal = world.group_refusal([(m, creator) for m in order])
    if refusal is not None:
        return refusal
    # POLICY.md §7.4: a 16-17-year-old joins by accepting an invite, never at a group's start.
    invitee = next(
        (
            m
            for m in order[1:]
            if rules.contact.joins_groups_by_invite_only(world.facts(m), on=world.today)
        ),
        None,
    )
    return None if invitee is None else "group_invite_required"


def try_invite(world: World, data: st.DataObject) -> None:
    """A member invites someone to a group and they accept at once (POLICY.md §7.4): the oracle is
    an add by the inviter (the inviter's standing, the invitee's, then everyone else's)."""
    groups = [t for t in world.threads if t.kind == "group"]
    if not groups:
        return
    t = data.draw(st.sampled_from(groups), label="group")
    members = [m for m, _ in t.members]
    outsiders = [i for i in range(len(world.people)) if i not in members]
    if not outsiders or len(members) >= MAX_GROUP_PARTICIPANTS:
        return
    inviter = data.draw(st.sampled_from(members), label="inviter")
    invitee = data.draw(st.sampled_from(outsiders), label="invitee")

    def oracle(invitee: int) -> tuple[str | None, str | None]:
        if t.locked:
            return "thread_locked", None
        own = world.membership(inviter, next(a for m, a in t.members if m == inviter), members)
        expected = (
            own
            or world.membership(invitee, inviter, [*members, invitee])
            or ("thread_locked" if world.group_refusal(t.members, skip=inviter) else None)
        )
        return expected, own

    if data.draw(st.booleans(), label="steer towards an accepted invite"):
        accepted = [o for o in outsiders if oracle(o)[0] is None]
        if accepted:
            invitee = data.draw(st.sampled_from(accepted), label="accepted invitee")
    expected, own = oracle(invitee)
    users = world.people

    def invite_and_accept() -> GroupInvite:
        invite = GroupInvite.objects.send(
            thread=t.thread_id,
            invitee=users[invitee].user,
            invited_by=users[inviter].user,
            actor=users[inviter].user,
        )
        return GroupInvite.objects.accept(
            invite, invitee=users[invitee].user, actor=users[invitee].user
        )

    code, _invite = outcome_of(invite_and_accept)
    assert code == expected, (t, inviter, invitee, world.people)
    event(f"invite: {code or 'accepted'}")
    if code is None:
        t.members.append((invitee, inviter))
    elif own is not None or code == "thread_locked":
        t.locked = True  # the inviter's own refusal, or someone else's, locks the group
    world.check_locks()


def try_send(world: World, data: st.DataObject) -> None:
    if not world.threads:
        return
    t = data.draw(st.sampled_from(world.threads), label="thread")
    sender = data.draw(st.sampled_from([m for m, _ in t.members]), label="sender")
    expected, locks = world.expected_send(t, sender)
    user = world.people[sender].user
    code, message = outcome_of(
        lambda: Message.objects.send(sender=user, thread=t.thread_id, body="hi", actor=user)
    )
    assert code == expected, (t, sender, world.people)
    event(f"send {t.kind}: {code or 'allowed'}")
    if message is not None:
        world.allowed_messages.add(message.pk)
    t.locked = t.locked or locks
    world.check_locks()


def apply_event(world: World, data: st.DataObject) -> None:
    n = len(world.people)
    event_name = data.draw(st.sampled_from(EVENTS), label="event")
    a, b = data.draw(st.permutations(range(n)), label="pair")[:2]
    ua, ub = world.people[a].user, world.people[b].user
    if event_name == "block":
        Block.objects.block(blocker=ua, blocked=ub, actor=ua)
        world.blocks.add((a, b))
    elif event_name == "unfollow":
        Connection.objects.unfollow(follower=ua, followee=ub, actor=ua)
        world.follows.discard((a, b))
    elif event_name == "follow":
        if world.blocked(a, b):
            return
        Connection.objects.follow(follower=ua, followee=ub, actor=ua)
        world.follows.add((a, b))
    elif event_name == "dm_nobody":
        SafetySettings.objects.change(ua, actor=ua, dm_setting="nobody")
    elif event_name == "ban":
        User.objects.change_status(ua, "banned", actor=FACTORY_ACTOR, reason="property test")
        world.people[a].status = "banned"
    elif event_name == "younger":
        person = world.people[a]
        age = rules.ages.age_on(person.birthdate, world.today)
        if age < 14 or BirthdateChangeRequest.objects.filter(user=ua, status="pending").exists():
            return
        target = 17 if age >= 18 else 15
        new = rules.ages.latest_birthdate_for_age(target, world.today) + dt.timedelta(days=20)
        if new <= person.birthdate:
            return
        BirthdateChangeRequest.objects.submit(
            user=ua,
            new_birthdate=new,
            method=rules.vocabulary.AssuranceMethod.GUARDIAN_VOUCH,
            evidence_reference="",
            reason="property test",
            actor=FACTORY_ACTOR,
        )
        person.birthdate = new
        if rules.ages.is_below_minimum_age(new, person.country, world.today):
            person.status = "under_age_review"
    locked_before = sum(t.locked for t in world.threads)
    world.forget()
    world.relock()
    world.check_locks()
    if sum(t.locked for t in world.threads) > locked_before:
        event(f"{event_name} locked a thread")


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_every_outcome_is_the_policys_and_no_forbidden_message_exists(data: st.DataObject) -> None:
    noon = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False), transaction.atomic():
        world = build_world(data, clock.today())
        if len(world.people) >= 2:
            for _ in range(data.draw(st.integers(1, 6), label="starts")):
                try_start(world, data)
            for _ in range(data.draw(st.integers(0, 3), label="invites")):
                try_invite(world, data)
            for _ in range(data.draw(st.integers(0, 8), label="sends")):
                try_send(world, data)
            for _ in range(data.draw(st.integers(0, 3), label="changes")):
                apply_event(world, data)
                for _ in range(data.draw(st.integers(0, 3), label="sends after")):
                    try_send(world, data)
            thread_ids = [t.thread_id for t in world.threads]
            stored = set(
                Message.objects.filter(thread_id__in=thread_ids).values_list("pk", flat=True)
            )
            assert stored == world.allowed_messages
        transaction.set_rollback(True)
