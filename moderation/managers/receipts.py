"""Receipts of reports received over the API and filed behind the response (D38).

The writes of one aggregate: storing a receipt (one INSERT, its own idempotency record), the
filer's claim of the oldest waiting one, and recording what became of it. Filing itself is
`moderation.actions.receiving`, which calls `file_report`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

from safety_portal.core import audit, clock, combined_writes
from safety_portal.core.errors import DomainError, http_status

if TYPE_CHECKING:
    from safety_portal.core.api.models import ApiClient

    from ..models import Report, ReportReceipt


class ReportReceiptQuerySet(models.QuerySet):
    def waiting(self) -> ReportReceiptQuerySet:
        return self.filter(status="received")

    def of_client(self, client: ApiClient) -> ReportReceiptQuerySet:
        return self.filter(client=client)


class ReportReceiptManager(models.Manager.from_queryset(ReportReceiptQuerySet)):  # type: ignore[misc]
    def receive(
        self, *, client: ApiClient, key: str, request_hash: str, payload: Mapping[str, Any]
    ) -> ReportReceipt:
        """Store a received report; nothing else. A key this client already used raises
        IntegrityError (the unique index), and the caller replays or refuses (`for_key`).

        One INSERT, committed on its own (one round trip: the point of receiving, D38); inside a
        caller's transaction (the tests) it takes a savepoint, so a reused key leaves the
        transaction usable. Not audited: nothing about anyone has changed yet. The filing is
        audited, as every report is, when `file_report` writes it.
        """
        receipt = self.model(
            client=client,
            key=key,
            request_hash=request_hash,
            received_at=clock.now(),
            payload=dict(payload),
        )
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            combined_writes.write([combined_writes.insert(receipt)], alone=True)
            return receipt
        with transaction.atomic():
            receipt.save(force_insert=True)
        return receipt

    def for_key(self, client: ApiClient, key: str) -> ReportReceipt | None:
        return self.filter(client=client, key=key).first()

    def claim_oldest(self, *, excluding: Collection[Any] = ()) -> ReportReceipt | None:
        """The oldest waiting receipt, locked for this transaction; another filer skips it.
        `excluding`: receipts this run already failed to file."""
        if not connection.in_atomic_block:
            raise RuntimeError("claim_oldest() locks a row for the caller's transaction.")
        return (
            self.waiting()
            .exclude(pk__in=list(excluding))
            .select_related("client")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .first()
        )

    def mark_filed(self, receipt: ReportReceipt, *, report: Report) -> None:
        """In the transaction that filed `report` (whose audit entry records the filing)."""
        receipt.status = "filed"
        receipt.report = report
        receipt.filed_at = clock.now()
        receipt.save(update_fields=["status", "report", "filed_at"])

    def mark_refused(self, receipt: ReportReceipt, *, error: DomainError, actor: object) -> None:
        """A notice that `file_report` refused: the refusal is kept for the sender (what a 400
        would have said) and audited, so a notice received and never filed is on the record."""
        with transaction.atomic():
            receipt.status = "refused"
            receipt.refusal = {"status": http_status(error), **error.as_dict()}
            receipt.filed_at = clock.now()
            receipt.save(update_fields=["status", "refusal", "filed_at"])
            audit.record(
                actor=actor,
                action="moderation.report.refused",
                target=receipt,
                reason=error.detail,
                after={"code": error.code, "fields": sorted(error.fields)},
            )

    def note_failure(self, receipt_id: object, *, failure: str) -> None:
        """An unexpected error while filing (the filing rolled back): count it on the receipt,
        which stays waiting for the next run."""
        self.filter(pk=receipt_id).update(
            attempts=models.F("attempts") + 1, last_failure=failure[:200]
        )

    def purge_settled(self, *, before: dt.datetime, limit: int = 5000) -> int:
        """Delete filed and refused receipts settled before `before` (the report itself stays)."""
        ids = list(
            self.exclude(status="received")
            .filter(filed_at__lt=before)
            .order_by("filed_at")
            .values_list("pk", flat=True)[:limit]
        )
        deleted, _ = self.filter(pk__in=ids).delete()
        return deleted
