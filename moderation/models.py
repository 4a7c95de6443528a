"""Moderation records. `Restriction` is what a decision leaves on an account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts import policy
from accounts.choices import choices_of

from .managers import RestrictionManager


class Restriction(models.Model):
    """A time-bounded limit on an account: a feature ban or a suspension.

    Whether it is in force is decided by its times (`starts_at <= now < ends_at`, not lifted), never by
    a job: a temporary restriction ends by itself. The nightly job only records the end.
    """

    class Kind(models.TextChoices):
        FEATURE = "feature", "Feature restricted"
        SUSPENSION = "suspension", "Account suspended"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="restrictions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    feature = models.CharField(max_length=20, choices=choices_of(policy.Feature), blank=True)
    reason = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty means until lifted.")
    lifted_at = models.DateTimeField(null=True, blank=True)
    end_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = RestrictionManager()

    class Meta:
        indexes = [models.Index(fields=["user", "ends_at"], name="restriction_user_ends")]
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
