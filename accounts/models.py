"""Users, their birthdates and safety settings, birthdate-change requests and guardian links.

The rules live in `safety_portal/rules/` (pure) and are enforced by the managers in `managers/` (one
module per aggregate, wired here as each model's `objects`); the models hold fields and the
database constraints that back those rules up when something walks around a manager (POLICY.md
§1-5).
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.actors import ActorIdentity

from .choices import (
    AGE_RANGE_CHOICES,
    AUDIENCE_CHOICES,
    COUNTRY_CODES,
    LEVEL_CHOICES,
    METHOD_CHOICES,
    RESULT_METHOD_CHOICES,
    STATUS_CHOICES,
    choices_of,
)
from .managers import (
    AgeAssuranceResultManager,
    BirthdateChangeRequestManager,
    GuardianLinkManager,
    LegalHoldManager,
    ReRegistrationSignalManager,
    RestrictionManager,
    SafetySettingsManager,
    UserManager,
)


class User(AbstractUser):
    """An app user (with a birthdate) or a staff member (who may have none)."""

    external_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="The app back end's id for this user.",
    )
    birthdate = models.DateField(
        null=True, blank=True, help_text="Set once at sign-up; changed only by request."
    )
    country = CountryField(blank=True, help_text="Country of residence (ISO 3166-1 alpha-2).")
    status = models.CharField(
        max_length=20, choices=STATUS_CHOICES, default=rules.vocabulary.AccountStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    assurance_method = models.CharField(
        max_length=24,
        choices=METHOD_CHOICES,
        default=rules.vocabulary.AssuranceMethod.SELF_DECLARED,
    )
    assurance_level = models.CharField(max_length=8, choices=LEVEL_CHOICES, default="low")
    birthdate_set_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    class Meta:
        indexes = [
            models.Index(fields=["birthdate"], name="user_birthdate"),
            models.Index(fields=["country", "birthdate"], name="user_country_birthdate"),
            models.Index(fields=["status"], name="user_status"),
        ]
        constraints = [
            models.CheckConstraint(
                # A closed under-age account (issue 7) keeps no birthdate: it was erased.
                condition=Q(is_staff=True)
                | (Q(birthdate__isnull=False) & ~Q(country=""))
                | Q(status="banned", is_active=False, birthdate__isnull=True),
                name="app_user_has_birthdate_and_country",
                violation_error_message="An app user needs a birthdate and a country.",
            ),
            models.CheckConstraint(
                condition=Q(birthdate__isnull=True) | Q(birthdate__gte=date(1900, 1, 1)),
                name="birthdate_not_before_1900",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__in=COUNTRY_CODES),
                name="country_is_iso_alpha2",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in rules.vocabulary.AccountStatus]),
                name="user_status_known",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def audit_identity(self) -> ActorIdentity:
        return ActorIdentity(kind="user", id=str(self.pk), label=self.username)

    def age(self, on: date) -> int | None:
        return None if self.birthdate is None else rules.ages.age_on(self.birthdate, on)

    def tier(self, on: date) -> rules.vocabulary.Tier | None:
        return None if self.birthdate is None else rules.ages.tier_on(self.birthdate, on)


class SafetySettings(models.Model):
    """The user's own choices. The effective value is computed by `rules.capabilities.capabilities`."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="safety_settings")
    dm_setting = models.CharField(max_length=10, choices=AUDIENCE_CHOICES)
    private_account = models.BooleanField()
    comment_setting = models.CharField(max_length=10, choices=AUDIENCE_CHOICES)
    duet_setting = models.CharField(max_length=10, choices=AUDIENCE_CHOICES)
    download_setting = models.BooleanField()
    suggest_account = models.BooleanField()
    connections_visible = models.BooleanField(
        help_text="Others may see who the user follows and who follows them (POLICY.md §7.4)."
    )
    guardian_approved_public_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a linked guardian approved making a 13-15-year-old's account public "
        "(POLICY.md §7.4); cleared when the account is private again.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SafetySettingsManager()

    class Meta:
        verbose_name_plural = "safety settings"

    def __str__(self) -> str:
        return f"Safety settings of {self.user}"

    def as_policy(self) -> rules.safety_settings.SafetySettings:
        return rules.safety_settings.SafetySettings(
            **{name: getattr(self, name) for name in rules.safety_settings.SETTING_NAMES}
        )


class BirthdateChangeRequest(models.Model):
    """A request to correct a birthdate (POLICY.md §4): never an edit in place."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending staff review"
        APPLIED = "applied", "Applied at once (younger)"
        APPROVED = "approved", "Approved by staff"
        REJECTED = "rejected", "Rejected by staff"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="birthdate_requests")
    old_birthdate = models.DateField()
    new_birthdate = models.DateField()
    method = models.CharField(max_length=24, choices=METHOD_CHOICES)
    evidence_reference = models.CharField(
        max_length=200, blank=True, help_text="A reference to the evidence, never the document."
    )
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by_kind = models.CharField(max_length=16)
    requested_by_id = models.CharField(max_length=64)
    requested_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    objects = BirthdateChangeRequestManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="one_pending_birthdate_request_per_user",
                violation_error_message="This user already has a pending birthdate-change request.",
            ),
            models.CheckConstraint(
                condition=~Q(old_birthdate=models.F("new_birthdate")),
                name="birthdate_request_changes_something",
            ),
            # POLICY.md §4 backed by the database: only a younger date applies without review,
            # and a staff decision names its reviewer and time.
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(new_birthdate__gt=models.F("old_birthdate")),
                name="only_younger_birthdate_applies_unreviewed",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="birthdate_decision_names_reviewer",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="bdr_status_created")]
        permissions = [("decide_birthdatechangerequest", "Can approve or reject birthdate changes")]

    def __str__(self) -> str:
        return f"Birthdate change for {self.user} ({self.status})"

    @property
    def makes_older(self) -> bool:
        return self.new_birthdate < self.old_birthdate


class AgeAssuranceResult(models.Model):
    """One age-assurance result (POLICY.md §7.2): by which method, what it says, who assured it,
    when, and how confident the assurer was. Append-only: written by `objects.record` and never
    changed (the QuerySet refuses update() and delete(), a PostgreSQL trigger refuses UPDATE).

    It NEVER holds an image, a video, a document number or any other part of the evidence: a
    result says a range, an "over N" bit or an estimate, not a birthdate. `reference` is the
    assurer's own id for its check, and only a UUID is accepted there; the idempotency key is kept
    as its SHA-256 hash; both so that no free-text field can carry a document number.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assurance_results")
    method = models.CharField(max_length=24, choices=RESULT_METHOD_CHOICES)
    age_range = models.CharField(max_length=8, choices=AGE_RANGE_CHOICES, blank=True)
    over_age = models.PositiveSmallIntegerField(null=True, blank=True)
    is_over = models.BooleanField(null=True, blank=True)
    estimate = models.FloatField(null=True, blank=True)
    region = models.CharField(
        max_length=6, blank=True, help_text="App-store signal: the US state (ISO 3166-2)."
    )
    confidence = models.FloatField(null=True, blank=True)
    reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="The assurer's id for its check (a UUID), never evidence.",
    )
    assurer_kind = models.CharField(max_length=16)
    assurer_id = models.CharField(max_length=64)
    assurer_label = models.CharField(max_length=150)
    idempotency_key_hash = models.CharField(max_length=64)
    assured_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    direction = models.CharField(
        max_length=8,
        choices=choices_of(rules.assurance.Direction),
        help_text="How it compared with the stored birthdate when it was recorded.",
    )

    objects = AgeAssuranceResultManager()

    class Meta:
        ordering = ["-assured_at", "-id"]
        indexes = [models.Index(fields=["user", "-assured_at"], name="assurance_user_assured")]
        constraints = [
            models.UniqueConstraint(
                fields=["assurer_kind", "assurer_id", "idempotency_key_hash"],
                name="assurance_idempotency_key_per_assurer",
            ),
            models.CheckConstraint(
                condition=(
                    Q(method="app_store_signal", over_age__isnull=True, is_over__isnull=True)
                    & Q(estimate__isnull=True)
                    & ~Q(age_range="")
                    & ~Q(region="")
                )
                | (
                    Q(method="facial_estimation", age_range="", region="")
                    & Q(over_age__isnull=True, is_over__isnull=True)
                    & Q(estimate__gte=0, estimate__lte=rules.assurance.MAX_AGE)
                )
                | (
                    Q(method__in=[m.value for m in rules.assurance.OVER_AGE_METHODS])
                    & Q(age_range="", region="", estimate__isnull=True, is_over__isnull=False)
                    & Q(over_age__gte=1, over_age__lte=rules.assurance.MAX_AGE)
                ),
                name="assurance_result_fits_its_method",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                name="assurance_confidence_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} for {self.user_id} ({self.assured_at:%Y-%m-%d})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("Assurance results are append-only: record a new one.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("Assurance results are append-only.")

    def as_rule(self) -> rules.assurance.AssuranceResult:
        return rules.assurance.AssuranceResult(
            method=rules.vocabulary.AssuranceMethod(self.method),
            assured_on=clock.date_of(self.assured_at),
            age_range=self.age_range or None,
            over_age=self.over_age,
            is_over=self.is_over,
            estimate=self.estimate,
            region=self.region or None,
            confidence=self.confidence,
        )


class GuardianLink(models.Model):
    """Family pairing (POLICY.md §5): an adult linked to a minor with both sides' consent.

    Limits can only tighten (checked by `rules.guardianship.check_guardian_limits` in the manager). Both sides see
    the link (UK Children's Code std. 11).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for the other side"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    guardian = models.ForeignKey(User, on_delete=models.PROTECT, related_name="guardian_of")
    teen = models.ForeignKey(User, on_delete=models.PROTECT, related_name="guardians")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    guardian_consented_at = models.DateTimeField(null=True, blank=True)
    teen_consented_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    dm_off = models.BooleanField(default=False)
    daily_screen_time_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    consents_to_personalisation = models.BooleanField(
        default=False,
        help_text="Guardian consent for a user below their country's digital-consent age.",
    )
    created_at = models.DateTimeField()

    objects = GuardianLinkManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "teen"],
                condition=~Q(status="ended"),
                name="one_open_link_per_pair",
                violation_error_message="These two accounts are already linked.",
            ),
            models.CheckConstraint(
                condition=~Q(guardian=models.F("teen")), name="guardian_is_not_the_teen"
            ),
            models.CheckConstraint(
                condition=~Q(status="active")
                | (Q(guardian_consented_at__isnull=False) & Q(teen_consented_at__isnull=False)),
                name="active_link_has_both_consents",
            ),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.teen} ({self.status})"

    def limits(self) -> rules.guardianship.GuardianLimits:
        quiet = None
        if self.quiet_hours_start is not None and self.quiet_hours_end is not None:
            quiet = (self.quiet_hours_start, self.quiet_hours_end)
        return rules.guardianship.GuardianLimits(
            dm_off=self.dm_off,
            daily_screen_time_minutes=self.daily_screen_time_minutes,
            quiet_hours=quiet,
        )


class Restriction(models.Model):
    """A time-bounded limit on an account: a feature ban or a suspension.

    It lives with the account it restricts (issue 10): messaging reads it to decide whether a
    person may send, and messaging stands below moderation. Moderation imposes and lifts it; the
    decision behind it is in moderation's effect ledger (`DecisionEffect.restriction`). The table
    keeps the name it was born with, `moderation_restriction`.

    Whether it is in force is decided by its times (`starts_at <= now < ends_at`, not lifted), never by
    a job: a temporary restriction ends by itself. The nightly job only records the end.
    """

    class Kind(models.TextChoices):
        FEATURE = "feature", "Feature restricted"
        SUSPENSION = "suspension", "Account suspended"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="restrictions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    feature = models.CharField(
        max_length=20, choices=choices_of(rules.vocabulary.Feature), blank=True
    )
    reason = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty means until lifted.")
    lifted_at = models.DateTimeField(null=True, blank=True)
    end_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    lift_reason = models.TextField(blank=True)

    objects = RestrictionManager()

    class Meta:
        db_table = "moderation_restriction"
        indexes = [
            models.Index(fields=["user", "ends_at"], name="restriction_user_ends"),
            models.Index(
                fields=["ends_at"],
                name="restriction_end_unrecorded",
                condition=Q(
                    end_recorded_at__isnull=True, lifted_at__isnull=True, ends_at__isnull=False
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="feature") & ~Q(feature=""))
                | (Q(kind="suspension") & Q(feature="")),
                name="feature_restriction_names_feature",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="restriction_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        what = self.feature or "account"
        return f"{self.get_kind_display()}: {what} of {self.user_id}"


class MinimumAgeSweep(models.Model):
    """One run of the minimum-age sweep (POLICY.md §7.3): for a rule that took effect in a country
    on a day, or started by staff. `key` makes it run once; `last_user_id` makes it resumable."""

    key = models.CharField(max_length=80, unique=True, help_text="rule:<country>:<date>, ...")
    country = CountryField()
    on = models.DateField(help_text="The date the rules were asked about.")
    source = models.TextField(help_text="The rule (and its source) that started the sweep.")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    last_user_id = models.BigIntegerField(default=0, help_text="Resume after this user id.")
    found = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Minimum-age sweep {self.key}"


class MinimumAgeReview(models.Model):
    """An account found below the minimum age, and what became of it (POLICY.md §7.3): the counts
    a regulator asks for (found, notified, verified older, deactivated, appealed, reinstated) are
    read from these rows, per country and period."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Under review"
        VERIFIED_OLDER = "verified_older", "Verified old enough"
        REINSTATED = "reinstated", "Reinstated on appeal"
        DEACTIVATED = "deactivated", "Deactivated"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="minimum_age_reviews")
    sweep = models.ForeignKey(
        MinimumAgeSweep, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews"
    )
    country = CountryField()
    found_on = models.DateField()
    grace_until = models.DateField()
    appeal_until = models.DateField()
    notified_at = models.DateTimeField()
    appealed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(outcome="open"), name="one_open_minimum_age_review"
            ),
        ]
        indexes = [models.Index(fields=["country", "found_on"], name="min_age_review_country")]

    def __str__(self) -> str:
        return f"Minimum-age review of {self.user_id} ({self.outcome})"


class ReRegistrationSignal(models.Model):
    """A sign that a new sign-up is someone refused or closed for age (POLICY.md §7.3): a salted
    hash of a device or account-recovery identifier, made by the integration. The identifier and
    the salt never reach us; the hash is kept until `keep_until` (the appeal window plus 30 days,
    `rules.minimum_age.signal_kept_until`) and then deleted by the daily retention job."""

    class Kind(models.TextChoices):
        DEVICE = "device", "Device identifier"
        RECOVERY = "recovery", "Account-recovery identifier"

    class Cause(models.TextChoices):
        AGE_GATE_REFUSAL = "age_gate_refusal", "Sign-up refused for age"
        MINIMUM_AGE_REVIEW = "minimum_age_review", "Account under minimum-age review or closed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    digest = models.CharField(max_length=64, help_text="Salted SHA-256, 64 hex characters.")
    cause = models.CharField(max_length=20, choices=Cause.choices)
    country = CountryField(blank=True)
    recorded_at = models.DateTimeField()
    keep_until = models.DateField(help_text="Deleted the day after (POLICY.md §7.3).")

    objects = ReRegistrationSignalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="one_signal_per_digest"),
            models.CheckConstraint(
                condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="signal_digest_is_sha256_hex"
            ),
        ]
        indexes = [models.Index(fields=["keep_until"], name="signal_keep_until")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} signal ({self.cause}, kept until {self.keep_until})"


class LegalHold(models.Model):
    """Evidence kept for the competent authority: while a hold is active, no erasure touches the
    account (`accounts.erasure` refuses; the under-age closure skips it). Placed when a decision or
    flag names the sexual exploitation of a child (`rules.child_safety`, issue 12.6), released
    only by staff with `accounts.release_legalhold`, both audited. `case_id` is moderation's case
    (kept as a number: accounts stands below moderation)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="legal_holds")
    case_id = models.BigIntegerField(help_text="The moderation case whose evidence is held.")
    reason = models.TextField()
    placed_at = models.DateTimeField()
    placed_by_label = models.CharField(max_length=150)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    objects = LegalHoldManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "case_id"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_user_and_case",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user"], name="legal_hold_active", condition=Q(released_at__isnull=True)
            )
        ]
        permissions = [("release_legalhold", "Can release a legal hold on evidence")]

    def __str__(self) -> str:
        state = "released" if self.released_at else "active"
        return f"Legal hold on {self.user_id} for case {self.case_id} ({state})"
