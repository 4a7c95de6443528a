"""Reports received over the API and filed behind the response (issue 13, docs/decisions.md D38).

A caller that sends `Prefer: respond-async` gets 202 and a receipt as soon as its notice is stored
durably; the filer (`moderation.file_received_reports`) files it through `file_report`, the same
door as every other report, and records on the receipt what became of it: the report and its case,
or the refusal with the field errors a synchronous request would have received as a 400.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from safety_portal.core.api.models import ApiClient

from ..managers import ReportReceiptManager
from .reporting import Report


class ReportReceipt(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received, not filed yet"
        FILED = "filed", "Filed"
        REFUSED = "refused", "Refused"

    # A sequential id (the default big integer): each receipt's index entries go to the right-hand
    # edge, which stays in memory however many receipts are kept. Receipts are only ever read
    # with their client, so one client cannot see another's by trying ids.
    # No single-column indexes on the two foreign keys: a receipt is read by its id or by
    # (client, key), and every index is written by every receipt (the intake's hot path, D38).
    # No database foreign key either: its check would lock the client's row for every receipt
    # (moderation/triggers.py RECEIPT_CLIENT_EXISTS refuses an unknown client instead).
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    # The Idempotency-Key and the fingerprint of the request it came with: the receipt is its own
    # idempotency record (one row per report received, D38). The filer also writes the API's
    # idempotency record when it files, so that a key means one request whichever way it is sent.
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    # The request body as validated by the API's serializer: what `file_report` will be called
    # with. Never shown to other clients; purged with the receipt.
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RECEIVED)
    # Unexpected failures of the filer (not refusals): counted, and the last one's kind kept, so a
    # receipt that keeps failing is visible (the filer moves on; the lag gauge raises the alarm).
    attempts = models.PositiveSmallIntegerField(default=0)
    last_failure = models.CharField(max_length=200, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    refusal = models.JSONField(null=True, blank=True)

    objects = ReportReceiptManager()

    class Meta:
        indexes = [
            # The filer's claim and the lag gauge read only the waiting receipts, oldest first.
            models.Index(
                fields=["id"], condition=Q(status="received"), name="report_receipt_waiting"
            ),
            # The retention purge walks the settled receipts by age.
            models.Index(
                fields=["filed_at"], condition=~Q(status="received"), name="report_receipt_settled"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="report_receipt_key_per_client"),
            models.CheckConstraint(
                condition=(
                    Q(status="received", filed_at__isnull=True, report__isnull=True)
                    | Q(status="filed", filed_at__isnull=False, report__isnull=False)
                    | Q(
                        status="refused",
                        filed_at__isnull=False,
                        report__isnull=True,
                        refusal__isnull=False,
                    )
                ),
                name="report_receipt_outcome_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.status})"
