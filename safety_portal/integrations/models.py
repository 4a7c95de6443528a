"""Submission state of each statement of reasons to the DSA Transparency Database (issue 12.4).

A statement of reasons itself is never changed once made (a database trigger refuses it,
moderation/triggers.py), so how its submission went lives beside it, one row per statement. The
row is the unit of idempotency: once `accepted`, a statement is never sent again.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from moderation.models import StatementOfReasons


class StatementSubmissionQuerySet(models.QuerySet["StatementSubmission"]):
    def due(self, *, at: dt.datetime) -> StatementSubmissionQuerySet:
        """Pending statements whose next attempt has come and that no worker holds."""
        return self.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=at),
            status=StatementSubmission.Status.PENDING,
            next_attempt_at__lte=at,
        )

    def pending(self) -> StatementSubmissionQuerySet:
        return self.filter(status=StatementSubmission.Status.PENDING)

    def rejected(self) -> StatementSubmissionQuerySet:
        return self.filter(status=StatementSubmission.Status.REJECTED)


StatementSubmissionManager = models.Manager.from_queryset(StatementSubmissionQuerySet)


class StatementSubmission(models.Model):
    """One statement of reasons and what the Transparency Database answered about it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent or to be retried"
        ACCEPTED = "accepted", "In the Transparency Database"
        REJECTED = "rejected", "Refused by the Transparency Database"

    statement = models.OneToOneField(
        StatementOfReasons, on_delete=models.PROTECT, related_name="submission"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending this statement until then."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The database's own id for the statement (absent when it was already there: a duplicate).
    tdb_uuid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    objects = StatementSubmissionManager()

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sor_submission_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_at__isnull=False),
                name="accepted_submission_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} ({self.status})"
