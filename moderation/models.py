"""Moderation records: reports, cases, decisions and what decisions leave behind.

The rules live in `policy.py` and `priority.py` (pure); the guarded writes in `managers.py` and
`services.py`. The models hold fields and the database constraints that back the rules up when
something walks around a manager (STYLE.md idea 2). POLICY.md §4 and §6, DSA arts. 16-24.
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

from .managers import (
    AppealManager,
    CaseManager,
    CaseNoteManager,
    DecisionManager,
    FlagManager,
    NoticeManager,
    ReporterStandingManager,
    StatementManager,
    StrikeManager,
    TrustedFlaggerManager,
)

CATEGORY_CHOICES = choices_of(rules.sor_vocabulary.Category)
SOURCE_CHOICES = choices_of(rules.sor_vocabulary.SourceType)
DECISION_CHOICES = choices_of(rules.decisions.DecisionType)


class SubjectType(models.TextChoices):
    USER = "user", "Account"
    MESSAGE = "message", "Message"
    THREAD = "thread", "Thread"


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
    subject_message = models.ForeignKey(
        "messaging.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
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
    subject_message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        db_index=False,
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
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeManager()

    class Meta:
        indexes = [models.Index(fields=["recipient", "created_at"], name="notice_recipient")]
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
            models.Index(fields=["filed_at"], name="appeal_pending", condition=Q(status="pending"))
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
