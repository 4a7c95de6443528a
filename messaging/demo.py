"""Demo messaging data: follows, blocks, direct and group threads, a locked thread, refused attempts.

Runs after `accounts.demo` and uses its people, looked up by tier (`User.objects.in_tier`) and by
the boundary names it creates (maya_sweet16 turns 16 today). Everything goes through the managers,
so the demo shows the rules at work: the refused attempts are real refusals, recorded as
`RefusedContactAttempt` rows, and the locked thread was locked by a real block. Idempotent: every
step looks for what it made before (follows and blocks are idempotent; threads are found by their
pair or title; messages are only added to an empty thread; refused attempts only once).
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.demo import DEMO_ACTOR, DemoContext
from safety_portal.core.errors import PolicyViolation

from .models import Block, Connection, GroupInvite, Message, Thread

CHATS = [
    ["are you going to the match on sunday?", "yes! dad is driving, want a lift?", "please 🙏"],
    ["did you finish the maths homework", "nearly, question 7 is evil", "same. call later?"],
    ["that recipe worked!!", "told you, the trick is the cold butter", "next time I bake for us"],
    ["new video is up", "the ending 😂", "thanks! took me all weekend"],
]
GROUP_CHAT = [
    "Saturday 10:00 at the climbing wall?",
    "I'm in, bringing my own shoes this time",
    "can we do 11? bus is slow on weekends",
    "11 it is",
]
DEMO_VIA = f"system:{DEMO_ACTOR.name}"
GROUP_TITLE = "Climbing club"
# accounts.demo's boundary people whose tier changes soon or whose status it sets itself.
BOUNDARY_PEOPLE = [
    "noah_almost18",
    "tom_age_corrected",
    "sofia_says_older",
    "teo_ana",
    "maya_sweet16",
]
LOCKED_CHAT = ["why did you post that photo of me", "it was a joke", "take it down please"]


def _people(tier: rules.vocabulary.Tier, today: object) -> list[User]:
    """The people of a tier, by username. Not filtered by status: the moderation demo, which runs
    after this one, suspends some of them, and the cast must not shift on the next run."""
    return list(
        User.objects.app_users()
        .in_tier(tier, on=today)
        .exclude(username__in=BOUNDARY_PEOPLE)
        .order_by("username")
    )


def _befriend(a: User, b: User) -> None:
    Connection.objects.follow(follower=a, followee=b, actor=DEMO_ACTOR)
    Connection.objects.follow(follower=b, followee=a, actor=DEMO_ACTOR)


def _dm(user: User, value: str) -> None:
    SafetySettings.objects.change(user, actor=DEMO_ACTOR, dm_setting=value)


def _chat(thread: Thread, speakers: list[User], lines: list[str]) -> int:
    if Message.objects.in_thread(thread).exists():
        return 0
    for i, line in enumerate(lines):
        Message.objects.send(
            sender=speakers[i % len(speakers)], thread=thread, body=line, actor=DEMO_ACTOR
        )
    return len(lines)


def _direct(a: User, b: User) -> Thread:
    existing = Thread.objects.direct_between(a, b).first()
    if existing is not None:
        return existing
    return Thread.objects.start(creator=a, participants=[b], actor=DEMO_ACTOR)


def seed(ctx: DemoContext) -> None:
    today = clock.today()
    done = Thread.objects.filter(kind="group", title=GROUP_TITLE).first()
    if done is not None:
        ctx.say(f"messaging: already seeded ({Thread.objects.count()} threads); nothing to add.")
        _note_locked(ctx)
        return
    adults = _people(rules.vocabulary.Tier.ADULT, today)
    older = _people(rules.vocabulary.Tier.OLDER_TEEN, today)
    young = _people(rules.vocabulary.Tier.YOUNG_TEEN, today)
    if len(adults) < 12 or len(older) < 4 or not young:
        ctx.say("messaging: not enough demo people for the messaging demo; run accounts first.")
        return
    sent = 0
    with transaction.atomic():
        # Adult friends in pairs, two of them open to messages from everyone.
        for a, b in zip(adults[0:8:2], adults[1:8:2], strict=True):
            _befriend(a, b)
        for open_adult in (adults[2], adults[3], adults[4]):
            _dm(open_adult, "everyone")
        # Older teens who turned DMs on for friends, each with an adult or teen friend.
        teens = older[:4]
        for teen in teens:
            _dm(teen, "friends")
        _befriend(teens[0], teens[1])
        _befriend(teens[2], adults[0])
        _befriend(teens[3], adults[8])
        maya = User.objects.filter(username="maya_sweet16").first()
        if maya is not None:  # turned 16 today: DMs with a friend are now possible
            _dm(maya, "friends")
            _befriend(maya, teens[1])

        # Direct threads between allowed pairs, with a little conversation.
        pairs = [(adults[0], adults[1]), (teens[0], teens[1]), (teens[2], adults[0])]
        pairs.append((adults[4], adults[2]))  # not friends: both accept messages from everyone
        if maya is not None:
            pairs.append((maya, teens[1]))
        for (a, b), lines in zip(pairs, CHATS * 2, strict=False):
            sent += _chat(_direct(a, b), [a, b], lines)

        # A group: an adult, two adult friends and a 17-year-old who accepted her friend's
        # invite (POLICY.md §7.4: 16-17 join a group only by accepting an invite).
        creator = adults[8]
        for friend in (adults[9], adults[10]):
            _befriend(creator, friend)
        group = Thread.objects.start(
            creator=creator,
            participants=[adults[9], adults[10]],
            actor=DEMO_ACTOR,
            kind="group",
            title=GROUP_TITLE,
        )
        invite = GroupInvite.objects.send(
            thread=group, invitee=teens[3], invited_by=creator, actor=DEMO_ACTOR
        )
        GroupInvite.objects.accept(invite, invitee=teens[3], actor=DEMO_ACTOR)
        sent += _chat(group, [creator, adults[9], teens[3], adults[10]], GROUP_CHAT)

        # A thread locked after a block: its messages are kept, nobody can post.
        a, b = adults[6], adults[7]
        locked = _direct(a, b)
        sent += _chat(locked, [a, b], LOCKED_CHAT)
        Block.objects.block(blocker=a, blocked=b, actor=DEMO_ACTOR)
        locked.refresh_from_db()

    refused = _refused_attempts(adults, older, young, group, exclude={*teens, maya})
    ctx.say(
        f"{Connection.objects.count()} follows, {Block.objects.count()} blocks, "
        f"{Thread.objects.count()} threads ({Thread.objects.locked().count()} locked), "
        f"{sent} new messages, {refused} new refused attempts."
    )
    _note_locked(ctx)


def _note_locked(ctx: DemoContext) -> None:
    locked = Thread.objects.filter(locked_source=Thread.LockSource.BLOCK).order_by("pk").first()
    if locked is not None:
        names = ", ".join(locked.members.order_by("username").values_list("username", flat=True))
        ctx.notes.append(
            f"Messaging: thread {locked.pk} ({names}) is locked after a block; refused contact "
            f"attempts are recorded as RefusedContactAttempt rows."
        )


def _refused_attempts(
    adults: list[User],
    older: list[User],
    young: list[User],
    group: Thread,
    *,
    exclude: set[User | None],
) -> int:
    """A few attempts the policy refuses, recorded by the managers as they would be in the app."""
    stranger, young_teen, open_teen = adults[11], young[0], older[0]
    attempts = [
        # An adult stranger writes to a 14-year-old: never (dm_recipient_under_16).
        lambda: Thread.objects.start(creator=stranger, participants=[young_teen], actor=DEMO_ACTOR),
        # A young teen tries to start a DM: never under 16 (dm_sender_under_16).
        lambda: Thread.objects.start(creator=young_teen, participants=[stranger], actor=DEMO_ACTOR),
        # An adult writes to a 16-17-year-old who is not their friend (dm_not_friends).
        lambda: Thread.objects.start(creator=stranger, participants=[open_teen], actor=DEMO_ACTOR),
    ]
    lonely = next((t for t in older if t not in exclude), None)
    if lonely is not None:
        _dm(lonely, "friends")
        # The group's creator is not her friend: only a friend may invite her.
        attempts.append(
            lambda: GroupInvite.objects.send(
                thread=group, invitee=lonely, invited_by=group.creator, actor=DEMO_ACTOR
            )
        )
    refused = 0
    for attempt in attempts:
        try:
            attempt()
        except PolicyViolation:
            refused += 1  # expected: the manager has recorded the refusal
        else:
            raise AssertionError("a demo attempt that the policy should refuse was allowed")
    return refused
