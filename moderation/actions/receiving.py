"""Reports received now and filed just behind the response (issue 13, docs/decisions.md D38).

`POST /api/v1/reports/` with `Prefer: respond-async` stores the validated notice and the caller's
idempotency record in one statement and answers 202 with a receipt; the filer then files it
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

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.db import transaction

from accounts.models import User
from safety_portal.core.errors import DomainError

from ..models import ReportReceipt
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
    failed: list[str] = field(default_factory=list)  # receipt ids left waiting after an error
    more: bool = False  # stopped by its limit with receipts still waiting

    @property
    def done(self) -> int:
        return self.filed + self.refused


def file_waiting(*, limit: int = 1000, seconds: float = 20.0) -> FilingRun:
    """File waiting receipts, oldest first, until none is left, `limit` were taken or `seconds`
    passed. An unexpected error rolls that receipt's filing back, is logged with its traceback
    and counted on the receipt, which stays waiting for the next run; this run moves on."""
    run = FilingRun()
    skip: set[Any] = set()
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


def _file_next(skip: set[Any], run: FilingRun) -> str | None:
    claimed = None
    try:
        with transaction.atomic():
            receipt = ReportReceipt.objects.claim_oldest(excluding=skip)
            if receipt is None:
                return None
            claimed = receipt.pk
            try:
                report = file_report(actor=receipt.client, **filing_arguments(receipt.payload))
            except DomainError as error:
                ReportReceipt.objects.mark_refused(receipt, error=error, actor=receipt.client)
                run.refused += 1
                return "refused"
            ReportReceipt.objects.mark_filed(receipt, report=report)
            run.filed += 1
            return "filed"
    except Exception as exc:
        if claimed is None:
            raise  # not a receipt's fault (the database is away): the task fails and retries
        logger.exception("Report receipt %s could not be filed; it stays waiting.", claimed)
        ReportReceipt.objects.note_failure(claimed, failure=type(exc).__name__)
        skip.add(claimed)
        run.failed.append(str(claimed))
        return "failed"


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
