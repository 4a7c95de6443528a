"""Who reports and what they report: trusted flaggers, reporters' standing, reports, the cases they
join and the moderators' notes on them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from safety_portal import rules

from ..managers import (
    CaseManager,
    CaseNoteManager,
    ReporterStandingManager,
    TrustedFlaggerManager,
)
from ._choices import CATEGORY_CHOICES, SOURCE_CHOICES, SubjectType


class TrustedFlagger(models.Model):
    """An organisation awarded trusted-flagger status by a Digital Services Coordinator (DSA art.
    22). Its name is public, so it may appear in a statement's `source_identity`."""

    name = models.CharField(max_length=200, unique=True)
    designated_by = models.CharField(
        max_length=2, help_text="Country of the Digital Services Coordinator that awarded it."
    )
    client_identity = models.CharField(
        max_length=64,
        blank=True,
        help_text="Audit identity id of the API client that files on its behalf.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    objects = TrustedFlaggerManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_identity"],
                condition=~Q(client_identity=""),
                name="trusted_flagger_one_per_client",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReporterStanding(models.Model):
    """How a reporter's decided reports came out; the art. 23 mark lives here."""

    reporter = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reporter_standing"
    )
    upheld = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    marked_at = models.DateTimeField(
        null=True, blank=True, help_text="Marked as filing many unfounded reports (DSA art. 23)."
    )
    updated_at = models.DateTimeField()

    objects = ReporterStandingManager()

    def __str__(self) -> str:
        return f"Reporter standing of {self.reporter_id}"


class Case(models.Model):
    """All open reports on one subject, with the priority that orders the queue."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ESCALATED = "escalated", "Escalated to senior moderators"
        DECIDED = "decided", "Decided"

    class Queue(models.TextChoices):
        ALL = "all", "Every open case I may take"
        GENERAL = "general", "Not escalated"
        MINORS = "minors", "Involving minors"
        TRUSTED_FLAGGER = "trusted_flagger", "Trusted flaggers"
        SENIOR = "senior", "Escalated to senior moderators"

    subject_key = models.CharField(max_length=40, help_text="'user:12', 'message:9', 'thread:4'")
    subject_type = models.CharField(max_length=10, choices=SubjectType.choices)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text="The account concerned (a message's sender); empty for a thread.",
    )
    # No database foreign key: messages are partitioned by month and a foreign key into them would
    # have to carry the message's time. The constraint trigger of moderation 0015 refuses a case
    # naming a message that does not exist (docs/decisions.md D33); messages are never deleted.
    subject_message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_constraint=False,
    )
    subject_thread = models.ForeignKey(
        "messaging.Thread", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    category = models.CharField(max_length=80, choices=CATEGORY_CHOICES)
    keywords = models.JSONField(default=list, blank=True)
    severity = models.PositiveSmallIntegerField()
    involves_minor = models.BooleanField(default=False)
    trusted_flagger = models.BooleanField(default=False)
    automated = models.BooleanField(default=False, help_text="A report came from automation.")
    report_count = models.PositiveIntegerField(default=0)
    reporter_count = models.PositiveIntegerField(
        default=0, help_text="Distinct credible reporters (anonymous reports count once)."
    )
    low_credibility = models.BooleanField(
        default=False, help_text="Every report so far is from a marked reporter (DSA art. 23)."
    )
    priority_score = models.SmallIntegerField()
    priority = models.PositiveSmallIntegerField(help_text="Band 1 (urgent) to 4 (low).")
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    overdue_escalated_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_cases",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CaseManager()

    class Meta:
        indexes = [
            # The queue: ordered scan of open cases, skipping claimed and locked rows.
            models.Index(
                models.F("priority_score").desc(),
                "due_at",
                "id",
                name="case_queue",
                condition=Q(status__in=rules.casework.OPEN_STATUSES),
            ),
            models.Index(
                fields=["due_at"],
                name="case_open_due",
                condition=Q(status__in=rules.casework.OPEN_STATUSES),
            ),
            models.Index(fields=["claimed_by", "status"], name="case_claimed_by"),
            models.Index(fields=["subject_user", "opened_at"], name="case_subject_user"),
            models.Index(fields=["decided_at"], name="case_decided_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key"],
                condition=Q(status__in=rules.casework.OPEN_STATUSES),
                name="one_open_case_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(
                    subject_type="user",
                    subject_user__isnull=False,
                    subject_message__isnull=True,
                    subject_thread__isnull=True,
                )
                | Q(
                    subject_type="message",
                    subject_user__isnull=False,
                    subject_message__isnull=False,
                    subject_thread__isnull=False,
                )
                | Q(
                    subject_type="thread",
                    subject_message__isnull=True,
                    subject_thread__isnull=False,
                ),
                name="case_subject_matches_type",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        claimed_by__isnull=True,
                        claimed_at__isnull=True,
                        claim_expires_at__isnull=True,
                    )
                    | Q(
                        claimed_by__isnull=False,
                        claimed_at__isnull=False,
                        claim_expires_at__isnull=False,
                    )
                ),
                name="case_claim_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="decided")
                | Q(decided_at__isnull=False, claimed_by__isnull=True),
                name="decided_case_is_closed",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="case_priority_band"
            ),
        ]
        permissions = [
            ("claim_case", "Can claim cases from the queue"),
            ("add_case_note", "Can add notes to cases"),
            ("escalate_case", "Can escalate cases to senior moderators"),
            ("decide_case", "Can decide cases (restrictions and suspensions up to 30 days)"),
            ("decide_beyond_30_days", "Can restrict or suspend for more than 30 days"),
            ("terminate_account", "Can terminate accounts"),
            ("decide_under_age", "Can take under-age decisions (require age verification)"),
            ("handle_escalated_case", "Can claim and decide escalated cases"),
            ("take_over_case", "Can take over a case claimed by someone else"),
            ("view_exact_birthdate", "Can see exact birthdates (each view audited)"),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.subject_key}, P{self.priority})"

    @property
    def is_open(self) -> bool:
        return rules.casework.is_open(self.status)


class Report(models.Model):
    """A notice (DSA art. 16) or a signal, on a user, a message or a thread."""

    class ReporterKind(models.TextChoices):
        USER = "user", "App user"
        ANONYMOUS = "anonymous", "Anonymous (child sexual abuse only)"
        TRUSTED_FLAGGER = "trusted_flagger", "Trusted flagger"
        INTEGRATION = "integration", "Integration"
        AUTOMATED = "automated", "Automated rule"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        UPHELD = "upheld", "Action taken"
        REJECTED = "rejected", "No violation found"

    # The single-column indexes Django adds to foreign keys are left out where the Meta indexes
    # below serve the same lookups (see the comment there): each one costs every insert.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports", db_index=False)
    reporter_kind = models.CharField(max_length=16, choices=ReporterKind.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports_filed",
        db_index=False,
    )
    trusted_flagger = models.ForeignKey(
        TrustedFlagger,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        db_index=False,
    )
    reporter_label = models.CharField(
        max_length=150, blank=True, help_text="Integration or rule name; empty for people."
    )
    low_credibility = models.BooleanField(
        default=False, help_text="The reporter was marked (DSA art. 23) when filing."
    )
    subject_type = models.CharField(max_length=10, choices=SubjectType.choices)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports_received",
        db_index=False,
    )
    # As Case.subject_message: integrity by the constraint trigger of moderation 0015 (D33).
    subject_message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        db_index=False,
        db_constraint=False,
    )
    subject_thread = models.ForeignKey(
        "messaging.Thread",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        db_index=False,
    )
    category = models.CharField(max_length=80, choices=CATEGORY_CHOICES)
    keywords = models.JSONField(default=list, blank=True)
    explanation = models.TextField(blank=True)
    source_type = models.CharField(max_length=40, choices=SOURCE_CHOICES)
    suspected_under_age = models.BooleanField(default=False)
    evidence = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField()

    objects = models.Manager()  # filing is a use case: moderation/actions/filing.py

    class Meta:
        indexes = [
            models.Index(fields=["case", "reporter"], name="report_case_reporter"),
            models.Index(fields=["reporter", "created_at"], name="report_reporter_created"),
            models.Index(fields=["subject_user", "created_at"], name="report_subject_created"),
            # The transparency report counts a period's notices by these columns: with them in the
            # key, PostgreSQL counts from the index alone (moderation/transparency_report.py).
            # Reports are written in created_at order, so the index only ever grows at its end.
            models.Index(
                fields=["created_at", "category", "source_type", "reporter_kind"],
                name="report_created_at",
            ),
            # The three composites above lead with `case`, `reporter` and `subject_user`, so they
            # serve every lookup by those columns (a case's reports, "has this reporter reported
            # this case", PROTECT checks on deleting a case or user). Flagger, message and thread
            # are empty on most reports: partial indexes serve lookups by them (PROTECT checks,
            # a flagger's reports) without an entry for every report filed.
            models.Index(
                fields=["trusted_flagger"],
                name="report_flagger",
                condition=Q(trusted_flagger__isnull=False),
            ),
            models.Index(
                fields=["subject_message"],
                name="report_subject_message",
                condition=Q(subject_message__isnull=False),
            ),
            models.Index(
                fields=["subject_thread"],
                name="report_subject_thread",
                condition=Q(subject_thread__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(reporter_kind="user", reporter__isnull=False, trusted_flagger__isnull=True)
                    | Q(
                        reporter_kind="anonymous",
                        reporter__isnull=True,
                        trusted_flagger__isnull=True,
                        category=rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
                    )
                    | Q(reporter_kind="trusted_flagger", trusted_flagger__isnull=False)
                    | (
                        Q(reporter_kind__in=["integration", "automated"])
                        & ~Q(reporter_label="")
                        & Q(reporter__isnull=True, trusted_flagger__isnull=True)
                    )
                ),
                name="report_reporter_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} on {self.subject_type} ({self.category})"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    objects = CaseNoteManager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note on case {self.case_id}"
