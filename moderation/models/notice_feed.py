"""`NoticeFeedItem`: every notice an app user is sent, from both notice tables, read-only (issue
12.2). Backed by the `moderation_notice_feed` view (migration 0010); writes go to the two tables
through `moderation.notice_feed`."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NoticeFeedItem(models.Model):
    class Source(models.TextChoices):
        MODERATION = "moderation", "A decision, report outcome, appeal or restriction"
        ACCOUNT = "account", "An account notice (age group, rule change, minimum age)"

    uid = models.CharField(
        max_length=40, primary_key=True, help_text="'moderation-12', 'account-7'"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    source_id = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    kind = models.CharField(max_length=20)
    code = models.CharField(max_length=60)
    tier = models.CharField(max_length=12)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)
    read_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "moderation_notice_feed"

    def __str__(self) -> str:
        return f"Notice {self.uid} to {self.user_id}"

    @property
    def state(self) -> str:
        """written (the app has not reported it), delivered, or read."""
        if self.read_at is not None:
            return "read"
        return "delivered" if self.delivered_at is not None else "written"
