"""Follows, blocks, threads, participants, messages, and refused contact attempts.

The rules are POLICY.md §3 (who may message whom, who may be in a group, locking); they live in
`safety_portal/rules/contact.py` and are asked by the managers in `managers/`, the only doors for
writes, which this module wires onto the models. The models hold fields and the database
constraints that back those doors up: no self-follow, no self-block, unique pairs, a direct thread
between two different people and at most one per pair, unique participants, a non-blank body
within `MAX_BODY_LENGTH`, known states. The PostgreSQL triggers in `triggers.py` add what a
constraint cannot say (migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from .guards import GuardedModel
from .limits import (
    MAX_BODY_LENGTH,
    MAX_LOCK_DETAIL_LENGTH,
    MAX_LOCK_REASON_LENGTH,
    MAX_TITLE_LENGTH,
)
from .managers import (
    BlockManager,
    ConnectionManager,
    GroupInviteManager,
    MessageManager,
    RefusedContactAttemptManager,
    ThreadManager,
    ThreadParticipantManager,
)


class Connection(GuardedModel):
    """`follower` follows `followee`. Two people are friends when each follows the other (§3)."""

    DOORS = "Connection.objects.follow() / unfollow()"

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="following"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followers"
    )
    created_at = models.DateTimeField()

    objects = ConnectionManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="connection_unique_pair"),
            models.CheckConstraint(
                condition=~Q(follower=F("followee")), name="connection_not_self"
            ),
        ]
        indexes = [models.Index(fields=["followee", "follower"], name="connection_followee")]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class Block(GuardedModel):
    """`blocker` blocked `blocked`: no contact either way (POLICY.md §3)."""

    DOORS = "Block.objects.block() / unblock()"

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="blocks_received"
    )
    created_at = models.DateTimeField()

    objects = BlockManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique_pair"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"], name="block_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocked {self.blocked_id}"


class Thread(GuardedModel):
    """A conversation: direct (two people) or group (up to `MAX_GROUP_PARTICIPANTS`).

    A locked thread keeps its messages and accepts no new ones or new participants (POLICY.md §3).
    `direct_low` / `direct_high` name the two people of a direct thread in id order, so that the
    database can refuse a self-thread and a second direct thread for the same pair.
    """

    DOORS = "Thread.objects.start() / add_participant() / lock() / unlock()"

    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"

    class LockSource(models.TextChoices):
        BLOCK = "block", "A block between participants"
        UNFOLLOW = "unfollow", "A friendship ended"
        ACCOUNT_STATUS = "account_status", "A participant's account status changed"
        BIRTHDATE = "birthdate", "A participant's birthdate was corrected"
        RESTRICTIONS = "restrictions", "A participant's settings or limits became stricter"
        SEND_CHECK = "send_check", "The policy refused the thread when someone posted"
        MODERATION = "moderation", "A moderation decision"
        STAFF = "staff", "A staff member"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="threads_created"
    )
    title = models.CharField(max_length=MAX_TITLE_LENGTH, blank=True)
    created_at = models.DateTimeField()
    direct_low = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    direct_high = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    locked = models.BooleanField(default=False)
    locked_reason = models.CharField(
        max_length=MAX_LOCK_REASON_LENGTH,
        blank=True,
        help_text="A stable reason code (POLICY.md §3) or a staff code.",
    )
    locked_source = models.CharField(max_length=16, choices=LockSource.choices, blank=True)
    locked_detail = models.CharField(max_length=MAX_LOCK_DETAIL_LENGTH, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ThreadParticipant",
        through_fields=("thread", "user"),
        related_name="threads",
    )

    objects = ThreadManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="direct", direct_low__lt=F("direct_high"), title="")
                | Q(kind="group", direct_low__isnull=True, direct_high__isnull=True),
                name="thread_direct_pair_of_two_people",
                violation_error_message="A direct thread is between two different people.",
            ),
            models.UniqueConstraint(
                fields=["direct_low", "direct_high"],
                condition=Q(kind="direct"),
                name="thread_one_direct_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(
                    locked=False, locked_at__isnull=True, locked_reason="", locked_source=""
                )
                | (
                    Q(locked=True, locked_at__isnull=False)
                    & ~Q(locked_reason="")
                    & ~Q(locked_source="")
                ),
                name="thread_lock_is_explained",
                violation_error_message="A locked thread records when, why and from where.",
            ),
        ]
        indexes = [models.Index(fields=["creator", "created_at"], name="thread_creator")]

    def __str__(self) -> str:
        state = " (locked)" if self.locked else ""
        return f"{self.get_kind_display()} thread {self.pk}{state}"


class ThreadParticipant(GuardedModel):
    """Someone in a thread: when they joined and who added them (the creator adds themselves)."""

    DOORS = "Thread.objects.start() / add_participant()"

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="thread_participations"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    joined_at = models.DateTimeField()

    objects = ThreadParticipantManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="participant_unique"),
        ]
        indexes = [models.Index(fields=["user", "thread"], name="participant_user_thread")]

    def __str__(self) -> str:
        return f"{self.user_id} in thread {self.thread_id}"


class GroupInvite(GuardedModel):
    """An invite to a group thread that the invitee accepts or declines (POLICY.md §7.4: how a
    16-17-year-old joins a group)."""

    DOORS = "GroupInvite.objects.send() / accept() / decline()"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="invites")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="group_invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = GroupInviteManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "invitee"],
                condition=Q(status="pending"),
                name="group_invite_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined"]),
                name="group_invite_status_known",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "status"], name="group_invite_invitee")]

    def __str__(self) -> str:
        return f"Invite of {self.invitee_id} to thread {self.thread_id} ({self.status})"


class Message(GuardedModel):
    """One message. Moderation hides or removes it; nothing is ever hard-deleted (issue 3).

    A removed message keeps its body for the case record and appeals (DSA art. 17/20).
    `sent_via` names who pressed send (the app's API client, or the person) for provenance.
    """

    DOORS = "Message.objects.send() / set_moderation_state()"

    class State(models.TextChoices):
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden by moderation"
        REMOVED = "removed", "Removed by moderation"

    # No single-column indexes on the two foreign keys: `message_thread_recent` and
    # `message_sender_recent` lead with the same columns and serve every lookup by them (a
    # thread's messages, a person's, the PROTECT checks). Each index is one more write per send,
    # and with monthly partitions (D33) one more index per month the planner weighs per read.
    thread = models.ForeignKey(
        Thread, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sent_messages",
        db_index=False,
    )
    body = models.TextField()
    created_at = models.DateTimeField()
    moderation_state = models.CharField(max_length=8, choices=State.choices, default=State.VISIBLE)
    moderation_changed_at = models.DateTimeField(null=True, blank=True)
    sent_via = models.CharField(max_length=100)

    objects = MessageManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=Q(moderation_state__in=["visible", "hidden", "removed"]),
                name="message_state_known",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), MAX_BODY_LENGTH),
                name="message_body_length",
                violation_error_message=f"A message has at most {MAX_BODY_LENGTH} characters.",
            ),
            # TRIM removes spaces only (PostgreSQL and SQLite alike): a backstop, never stricter
            # than the manager, which refuses every whitespace-only body.
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("body")), 0), name="message_body_not_blank"
            ),
        ]
        indexes = [
            # A thread's messages, newest first (the thread view; visible_to's per-thread probe).
            models.Index(fields=["thread", "-created_at", "-id"], name="message_thread_recent"),
            # A person's messages (staff reads by sender, contact-risk signals).
            models.Index(fields=["sender", "-created_at"], name="message_sender_recent"),
            # Message.objects.visible_to(user): newest visible messages first.
            models.Index(
                fields=["-created_at", "-id"],
                name="message_visible_recent",
                condition=Q(moderation_state="visible"),
            ),
        ]
        permissions = [
            ("read_message_body", "Can read message bodies (each read audited, with a reason)")
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in thread {self.thread_id}"


class RefusedContactAttempt(GuardedModel):
    """A start, add or send that the policy refused: the contact-risk signal of issue 4.

    Cheap on purpose (one row, no audit entry): the moderation app counts them per sender and per
    recipient. `recipient` is the person the refusal was about, when there is one.
    """

    DOORS = "the messaging managers (written on refusal)"

    class Action(models.TextChoices):
        START = "thread_start", "Start a thread"
        ADD = "participant_add", "Add someone to a group"
        SEND = "message_send", "Send a message"

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refused_attempts_made"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refused_attempts_received",
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.PROTECT, null=True, blank=True, related_name="refused_attempts"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=40)
    at = models.DateTimeField()
    sent_via = models.CharField(max_length=100)

    objects = RefusedContactAttemptManager()

    class Meta:
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["sender", "-at"], name="refused_sender_recent"),
            models.Index(fields=["recipient", "-at"], name="refused_recipient_recent"),
            models.Index(fields=["-at"], name="refused_recent"),
        ]

    def __str__(self) -> str:
        return f"Refused {self.action} by {self.sender_id}: {self.reason}"
