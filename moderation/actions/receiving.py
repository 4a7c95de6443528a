"""Reports received now and filed just behind the response (issue 13, docs/decisions.md D38).

`POST /api/v1/reports/` with `Prefer: respond-async` stores the validated notice as a receipt (one
INSERT; the receipt is its own idempotency record) and answers 202; the filer then files it
through `file_report`, the one door for reports, with the API client as the actor, exactly as a
synchronous request would have. Every rule runs at filing time; a refusal is kept on the receipt in
the shape of the 400 the caller would otherwise have received, and audited.

Who files: the task `moderation.file_received_reports`, kicked by the receiving web process (at
most every KICK_EVERY seconds per process) and swept by beat every few seconds, so a lost kick or
a stopped worker delays filing and loses nothing: the receipt row is the durable work item, and
two filers never take the same one (SKIP LOCKED). Oldest first, one receipt per transaction, so a
case's row lock is held no longer than a synchronous filing holds it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from safety_portal.core.api import idempotency
from safety_portal.core.api.models import IdempotencyRecord
from safety_portal.core.errors import DomainError

from ..models import Report, ReportReceipt
from .filing import file_report

logger = logging.getLogger(__name__)

TASK = "moderation.file_received_reports"
KICK_EVERY = 0.2  # seconds: the most often one web process asks for a filer
_last_kick = float("-inf")


def filing_arguments(payload: Mapping[str, Any]) -> dict[str, Any]:
    """`file_report`'s arguments from the API's validated body: the synchronous request and the
    filer both call this, so a notice means the same whichever way it came."""
    reporter = None
    if payload.get("reporter") is not None:
        reporter = User.objects.app_users().filter(pk=payload["reporter"]).first()
        if reporter is None:
            raise DomainError("invalid", "Unknown reporter.", fields={"reporter": ["unknown user"]})
    return {
        "reporter": reporter,
        "subject_type": payload["subject_type"],
        "subject_id": payload["subject_id"],
        "category": payload["category"],
        "keywords": payload.get("keywords", []),
        "explanation": payload["explanation"],
        "source_type": payload["source_type"],
    }


@dataclass
class FilingRun:
    filed: int = 0
    refused: int = 0
    failed: list[int] = field(default_factory=list)  # receipt ids left waiting after an error
    more: bool = False  # stopped by its limit with receipts still waiting

    @property
    def done(self) -> int:
        return self.filed + self.refused


def file_waiting(
    *, limit: int = 1000, seconds: float = 20.0, skipping: Iterable[int] = ()
) -> FilingRun:
    """File waiting receipts, oldest first, until none is left, `limit` were taken or `seconds`
    passed. An unexpected error rolls that receipt's filing back, is logged with its traceback
    and counted on the receipt, which stays waiting for the next run; this run moves on.
    `skipping`: receipts that an earlier run of the same caller failed to file."""
    run = FilingRun()
    skip = set(skipping)
    deadline = time.monotonic() + seconds
    while run.done + len(run.failed) < limit:
        if time.monotonic() > deadline:
            run.more = True
            return run
        outcome = _file_next(skip, run)
        if outcome is None:
            return run
    run.more = ReportReceipt.objects.waiting().exclude(pk__in=skip).exists()
    return run


def _file_next(skip: set[int], run: FilingRun) -> str | None:
    claimed = None
    try:
        with transaction.atomic():
            receipt = ReportReceipt.objects.claim_oldest(excluding=skip)
            if receipt is None:
                return None
            claimed = receipt.pk
            outcome = _file(receipt)
            if outcome == "filed":
                run.filed += 1
            else:
                run.refused += 1
            return outcome
    except Exception as exc:
        if claimed is None:
            raise  # not a receipt's fault (the database is away): the task fails and retries
        logger.exception("Report receipt %s could not be filed; it stays waiting.", claimed)
        ReportReceipt.objects.note_failure(claimed, failure=type(exc).__name__)
        skip.add(claimed)
        run.failed.append(claimed)
        return "failed"


def _file(receipt: ReportReceipt) -> str:
    """File one claimed receipt, in the caller's transaction.

    The receipt holds its key and fingerprint; the API's idempotency records hold the keys of
    synchronous requests. A key is one request whichever way it came: a synchronous request with
    this key that already filed the same report is the receipt's report (nothing is filed twice),
    one with another body makes the receipt a 409 refusal, and otherwise the filing writes the
    idempotency record too, so that a synchronous retry with the key replays the receipt.
    """
    client = receipt.client
    earlier = IdempotencyRecord.objects.filter(client=client, key=receipt.key).first()
    if earlier is not None:
        if earlier.request_hash != receipt.request_hash or "id" not in earlier.response_body:
            ReportReceipt.objects.mark_refused(
                receipt, error=idempotency.key_reused(), actor=client
            )
            return "refused"
        report = Report.objects.get(pk=earlier.response_body["id"])
        ReportReceipt.objects.mark_filed(receipt, report=report)
        return "filed"
    remember = idempotency.Remember(
        client=client,
        key=receipt.key,
        method="POST",
        path=reverse("v1:reports"),
        digest=receipt.request_hash,
    )
    try:
        report = file_report(
            actor=client,
            **filing_arguments(receipt.payload),
            before_audit=lambda report: [remember.unsaved(202, answer(receipt))],
        )
    except DomainError as error:
        ReportReceipt.objects.mark_refused(receipt, error=error, actor=client)
        return "refused"
    ReportReceipt.objects.mark_filed(receipt, report=report)
    return "filed"


def answer(receipt: ReportReceipt) -> dict[str, Any]:
    """What the sender of a receipt is told, and told again for a retry with its key."""
    return {
        "id": receipt.pk,
        "status": ReportReceipt.Status.RECEIVED.value,
        "received_at": receipt.received_at.isoformat(),
        "status_url": status_url(receipt.pk),
    }


@functools.cache
def _receipts_prefix() -> str:
    """The receipts' path up to the id, resolved once: `reverse()` per answer was a twentieth of
    the request's own time (profiled)."""
    return reverse("v1:report-receipt", kwargs={"pk": 1}).removesuffix("1/")


def status_url(receipt_id: object) -> str:
    return f"{_receipts_prefix()}{receipt_id}/"


def kick() -> None:
    """Ask for a filer now, after a receipt was stored. Under eager Celery (the embedded demo and
    the tests) the filing runs here. Otherwise at most one task per KICK_EVERY per process is
    sent (each one files everything waiting), and a broker that is down is logged, not raised:
    the receipt is stored, and beat's sweep files it."""
    global _last_kick
    if current_app.conf.task_always_eager:
        file_waiting()
        return
    now = time.monotonic()
    if now - _last_kick < KICK_EVERY:
        return
    _last_kick = now
    try:
        current_app.send_task(TASK, expires=30, retry=False)
    except Exception:
        logger.warning(
            "Could not ask for a report filer (broker down?); beat's sweep files the receipt.",
            exc_info=True,
        )
