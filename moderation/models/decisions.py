"""Decisions and what they leave behind: strikes, the effect ledger an overturn reverses, the
statement of reasons (DSA art. 17, 24(5)).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.choices import choices_of
from accounts.models import Restriction
from safety_portal import rules
from safety_portal.rules.grounds import GROUND_CHOICES

from ..managers import (
    FINAL,
    STANDING,
    DecisionManager,
    StatementManager,
    StrikeManager,
)
from ._choices import CATEGORY_CHOICES, DECISION_CHOICES
from .reporting import Case


class Decision(models.Model):
    """A moderator's decision on a case. Never edited in place; an appeal may overturn it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    type = models.CharField(max_length=30, choices=DECISION_CHOICES)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moderation_decisions",
        help_text="Whose account or content the decision acts on.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions_taken"
    )
    ground = models.CharField(max_length=40, choices=GROUND_CHOICES, blank=True)
    category = models.CharField(max_length=80, choices=CATEGORY_CHOICES)
    keywords = models.JSONField(default=list, blank=True)
    explanation = models.TextField(blank=True, help_text="Shown to the user; no personal data.")
    facts = models.TextField(help_text="Facts relied on; published in the statement of reasons.")
    feature = models.CharField(
        max_length=20, choices=choices_of(rules.vocabulary.Feature), blank=True
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    strikes_after = models.PositiveSmallIntegerField(null=True, blank=True)
    escalation_proposed = models.CharField(max_length=12, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    appeal_deadline = models.DateTimeField(null=True, blank=True)
    overturned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField()

    objects = DecisionManager()

    class Meta:
        indexes = [
            models.Index(fields=["target_user", "decided_at"], name="decision_target"),
            models.Index(fields=["type", "decided_at"], name="decision_type_at"),
            # A period's actions for the transparency report, whatever their type.
            models.Index(fields=["decided_at"], name="decision_decided_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type="restrict_feature", feature__gt="")
                | (~Q(type="restrict_feature") & Q(feature="")),
                name="decision_feature_iff_restriction",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="decision_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(type="suspend") | Q(ends_at__isnull=False),
                name="suspension_has_an_end",
            ),
            models.CheckConstraint(
                condition=Q(type__in=["no_violation", "escalate"]) | ~Q(ground=""),
                name="restricting_decision_has_ground",
            ),
            # A case has at most one standing final decision. `decide` already refuses a decided
            # case under the case's row lock; this is the backstop for any other writer (a
            # script, a fixture, a future door). An escalation is not final, and an overturned
            # decision (appeal upheld, case reopened) makes room for the new one.
            models.UniqueConstraint(
                fields=["case"],
                condition=FINAL & STANDING,
                name="one_standing_decision_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on case {self.case_id}"

    @property
    def decision_type(self) -> rules.decisions.DecisionType:
        return rules.decisions.DecisionType(self.type)

    @property
    def restrictions(self) -> models.QuerySet[Restriction]:
        """The restrictions this decision imposed, read from its effect ledger (the restriction
        itself lives with the account and does not point back up at moderation)."""
        imposed = self.effects.filter(kind="restriction").values("restriction_id")
        return Restriction.objects.filter(pk__in=imposed).order_by("pk")


class Strike(models.Model):
    """One upheld violation; counts towards the threshold until it expires or is removed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="strikes"
    )
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="strike")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.TextField(blank=True)

    objects = StrikeManager()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="strike_user_expires")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="strike_expires_later"
            )
        ]

    def __str__(self) -> str:
        return f"Strike on {self.user_id} (decision {self.decision_id})"


class DecisionEffect(models.Model):
    """One change a decision made, with what was there before: the ledger an overturn reverses.

    Recording the effect (rather than re-deriving it) means an overturn undoes exactly what this
    decision did — a thread it locked, not a lock that came from elsewhere (issue 4, appeals).
    """

    class Kind(models.TextChoices):
        RESTRICTION = "restriction", "Restriction imposed"
        STATUS = "status", "Account status changed"
        MESSAGE_STATE = "message_state", "Message moderation state changed"
        THREAD_LOCK = "thread_lock", "Thread locked"
        STRIKE = "strike", "Strike added"

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="effects")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    restriction = models.ForeignKey(
        Restriction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    strike = models.ForeignKey(
        Strike, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.BigIntegerField(
        null=True, blank=True, help_text="The message or thread id for messaging effects."
    )
    before = models.CharField(max_length=30, blank=True)
    after = models.CharField(max_length=30, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["decision"], name="effect_decision")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by decision {self.decision_id}"


class StatementOfReasons(models.Model):
    """The DSA art. 17 / 24(5) statement of a restricting decision, as submitted (no personal
    data; `puid` is stable and unique)."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="statement")
    puid = models.CharField(max_length=500, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField()

    objects = StatementManager()

    class Meta:
        verbose_name = "statement of reasons"
        verbose_name_plural = "statements of reasons"
        indexes = [models.Index(fields=["created_at", "id"], name="sor_created")]
        permissions = [("export_statements", "Can export statements of reasons")]

    def __str__(self) -> str:
        return self.puid
