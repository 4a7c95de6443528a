"""What follows a decision or a signal: notices to users, appeals (DSA art. 20) and flags staff
review.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.choices import choices_of
from accounts.models import Restriction
from safety_portal import rules

from ..managers import (
    AppealManager,
    FlagManager,
    NoticeManager,
)
from .decisions import Decision
from .reporting import Case


class Notice(models.Model):
    """A message to a user or staff member, rendered from a template and stored as sent."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision on your account or content"
        REPORTER_OUTCOME = "reporter_outcome", "Outcome of your report"
        APPEAL_RECEIVED = "appeal_received", "Appeal received"
        APPEAL_DECIDED = "appeal_decided", "Appeal decided"
        RESTRICTION_ENDED = "restriction_ended", "Restriction ended"
        CASE_OVERDUE = "case_overdue", "Case past its due time"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_notices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    template = models.CharField(max_length=100)
    tier = models.CharField(max_length=12, blank=True, help_text="The age tier it was written for.")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    appeal = models.ForeignKey(
        "Appeal", on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    restriction = models.ForeignKey(
        Restriction, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    code = models.CharField(
        max_length=60,
        blank=True,
        help_text="Language-neutral code the app keys on (e.g. appeal_decided.overturned).",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Reported by the app.")
    read_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(
        null=True, blank=True, help_text="When its notice.created webhook event was recorded."
    )

    objects = NoticeManager()

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="notice_recipient"),
            models.Index(
                fields=["id"], name="notice_unannounced", condition=Q(announced_at__isnull=True)
            ),
        ]
        constraints = [
            # Deadline alerts go out once per case and recipient (issue 7, "once per case").
            models.UniqueConstraint(
                fields=["recipient", "case"],
                condition=Q(kind="case_overdue"),
                name="one_overdue_alert_per_case",
            ),
            models.UniqueConstraint(
                fields=["restriction"],
                condition=Q(kind="restriction_ended"),
                name="one_end_notice_per_restriction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id}"


class Appeal(models.Model):
    """An appeal against a decision (DSA art. 20), or an under-age appeal (POLICY.md §4)."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Appeal against a decision"
        UNDER_AGE = "under_age", "Under-age appeal (with age evidence)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a senior moderator"
        REJECTED = "rejected", "Decision upheld"
        OVERTURNED = "overturned", "Decision overturned"

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="appeal")
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    statement = models.TextField(help_text="The appellant's reasons.")
    evidence_method = models.CharField(
        max_length=24, choices=choices_of(rules.vocabulary.AssuranceMethod), blank=True
    )
    evidence_reference = models.CharField(
        max_length=200, blank=True, help_text="A reference to the age evidence, never the document."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    filed_at = models.DateTimeField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals_reviewed",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reviewer_note = models.TextField(blank=True)

    objects = AppealManager()

    class Meta:
        indexes = [
            models.Index(fields=["filed_at"], name="appeal_pending", condition=Q(status="pending")),
            # A period's appeals, whatever their outcome, for the transparency report.
            models.Index(fields=["filed_at"], name="appeal_filed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", reviewer__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(reviewer__isnull=False, decided_at__isnull=False)),
                name="appeal_decided_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(kind="under_age")
                | (~Q(evidence_method="") & ~Q(evidence_reference="")),
                name="under_age_appeal_has_evidence",
            ),
        ]
        permissions = [("decide_appeal", "Can decide appeals")]

    def __str__(self) -> str:
        return f"Appeal on decision {self.decision_id} ({self.status})"


class Flag(models.Model):
    """A signal for staff review: an age signal or a contact-risk signal (issue 4).

    A flag never changes anything on the account by itself; staff act on it (POLICY.md §4).
    """

    class Kind(models.TextChoices):
        AGE = "age", "May be younger than declared"
        AGE_OLDER = "age_older", "An assurance result says older than declared"
        CONTACT_RISK = "contact_risk", "Contact risk towards minors"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed (sent to the case queue)"
        DISMISSED = "dismissed", "Dismissed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_flags"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    signals = models.JSONField(default=list, help_text="Evidence: one entry per signal.")
    signal_count = models.PositiveIntegerField(default=0)
    raised_at = models.DateTimeField()
    last_signal_at = models.DateTimeField()
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    objects = FlagManager()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "raised_at"], name="flag_open", condition=Q(status="open"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], condition=Q(status="open"), name="one_open_flag_per_kind"
            )
        ]
        permissions = [("review_flag", "Can confirm or dismiss age and contact-risk flags")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} flag on {self.user_id} ({self.status})"
