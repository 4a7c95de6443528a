"""Background-job records: the outbox of follow-up work, daily job runs, and users' notices.

Why an outbox: a request that sends a message, files a report or decides a case must not depend on
the broker being up, yet the work that follows (a webhook, a notice, a task) must not be lost. The
request writes an `OutboxMessage` row in its own transaction; the row is published to Celery after
the commit, or later by the relay when the broker was down (issue 7, "Reliability").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .managers import OutboxMessageManager


class OutboxMessage(models.Model):
    """One Celery task to publish: its name and JSON keyword arguments (ids, never objects)."""

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="Enqueueing the same key again is a no-op (for as long as the row is kept).",
    )
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker accepted it; set once."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Publishing attempts.")
    last_error = models.TextField(blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A relay holds the row until then while publishing it."
    )
    lease_token = models.UUIDField(null=True, blank=True, editable=False)

    objects = OutboxMessageManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="outbox_pending", condition=Q(dispatched_at__isnull=True)
            ),
            models.Index(fields=["dispatched_at"], name="outbox_dispatched_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(task_name=""), name="outbox_message_names_a_task"),
        ]

    def __str__(self) -> str:
        state = "dispatched" if self.dispatched_at else "pending"
        return f"{self.task_name} #{self.pk} ({state})"


class JobRun(models.Model):
    """One run of a daily job for one date: makes the job idempotent per day.

    The row is created when the run starts and completed (with its summary) exactly once, by a
    conditional UPDATE, so a second or concurrent run on the same date writes no second summary.
    """

    job = models.CharField(max_length=100)
    run_date = models.DateField()
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "run_date"], name="one_job_run_per_date"),
        ]
        indexes = [models.Index(fields=["job", "-run_date"], name="jobrun_job_date")]

    def __str__(self) -> str:
        return f"{self.job} {self.run_date.isoformat()}"


class UserNotice(models.Model):
    """A notice shown to an app user that no moderation event caused (e.g. a tier change).

    Moderation's `Notice` is tied to cases, decisions and appeals; account events that concern only
    the user (POLICY.md §3 tier changes on a birthday) are stored here. `key` makes sending
    idempotent: the same notice for the same user is stored once however often a job runs.
    """

    class Kind(models.TextChoices):
        TIER_CHANGE = "tier_change", "Your age group changed"
        POLICY_CHANGE = "policy_change", "Our safety rules changed your settings"
        MINIMUM_AGE = "minimum_age", "Your account is below the minimum age"

    # No index of its own: the two indexes below both start with `user`.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="user_notices",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=100, help_text="What makes this notice unique for the user.")
    tier = models.CharField(max_length=12, blank=True, help_text="The age tier it was written for.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Reported by the app.")
    read_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(
        null=True, blank=True, help_text="When its notice.created webhook event was recorded."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_user_notice_per_key"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="user_notice_recent"),
            models.Index(
                fields=["id"],
                name="user_notice_unannounced",
                condition=Q(announced_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user_id}"
