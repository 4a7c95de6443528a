"""Submitting statements of reasons to the DSA Transparency Database (issue 12.4; art. 24(5)).

A run: enrol the statements that have no submission row yet; then, batch by batch (at most 100),
claim due statements, send them once (`transparency_db.post_statements`), and settle each one from
the answer, in one transaction with an audit entry for the batch. A summary entry closes the run.

Why it is safe to run anywhere, any number of times:
- Claims take row locks with `SKIP LOCKED` and set a lease before the locks are released, so two
  workers never send the same statement at once and no lock is held over the network; only the
  holder of the lease writes the outcome (a worker that outlived its lease writes nothing).
- A statement is sent again only while it is `pending`. The database's 'not unique' answer for a
  puid means it is already there (an earlier call whose answer we lost): it counts as accepted, so
  a statement is never in the database twice and never sent once accepted.
- Nothing is given up: timeouts, refused connections, 5xx and 429 put the batch back with
  exponential backoff (or the server's `Retry-After`), however long the outage lasts.
- The database creates nothing of a call that it answers 422 (documented), so the invalid
  statements of a batch are marked rejected with the server's words, the others go back to be sent
  again at once, in a call without the bad ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from moderation.models import StatementOfReasons
from safety_portal.core import audit, clock

from . import transparency_db
from .models import StatementSubmission
from .transparency_db import Answer, Endpoint, Kind

logger = logging.getLogger("safety_portal.integrations.statement_submission")

BATCH_MAX = 100  # the multiple endpoint's documented limit
# Answers after which the run stops: the next batch would meet the same trouble.
STOPPING = {Kind.UNAUTHORISED, Kind.RATE_LIMITED, Kind.UNAVAILABLE, Kind.REFUSED}
Status = StatementSubmission.Status


def backoff(attempt: int) -> dt.timedelta:
    """Wait after failed attempt number `attempt` (1-based): 1 min, 2 min, 4 min ... capped at 6 h."""
    base = float(getattr(settings, "TRANSPARENCY_DB_BACKOFF_BASE_SECONDS", 60))
    cap = float(getattr(settings, "TRANSPARENCY_DB_BACKOFF_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


@dataclass
class BatchResult:
    sent: int = 0
    accepted: int = 0
    already_accepted: int = 0
    rejected: int = 0
    resend: int = 0  # put back to be sent again at once (the other statements of a 422)
    postponed: int = 0  # put back for later (backoff, Retry-After, token refused)


@dataclass
class RunSummary:
    """What a run did; `stopped` says why it ended early (None: nothing due was left)."""

    enabled: bool = True
    enrolled: int = 0
    batches: int = 0
    sent: int = 0
    accepted: int = 0
    already_accepted: int = 0
    rejected: int = 0
    postponed: int = 0
    stopped: Kind | None = None
    error: str = ""
    pending: int = 0
    batch_sizes: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, object]:
        return {
            "enrolled": self.enrolled,
            "batches": self.batches,
            "sent": self.sent,
            "accepted": self.accepted,
            "already_accepted": self.already_accepted,
            "rejected": self.rejected,
            "postponed": self.postponed,
            "pending": self.pending,
            "stopped": self.stopped.value if self.stopped else "",
        }


def enrol(*, now: dt.datetime | None = None) -> int:
    """Give every statement without a submission row one, due now. Safe to run concurrently (a
    row another worker just made is skipped by the unique statement)."""
    now = now or clock.now()
    total = 0
    while True:
        ids = list(
            StatementOfReasons.objects.filter(submission__isnull=True)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:1000]
        )
        if not ids:
            return total
        made = StatementSubmission.objects.bulk_create(
            [StatementSubmission(statement_id=i, next_attempt_at=now, created_at=now) for i in ids],
            ignore_conflicts=True,
        )
        total += len(made)


@dataclass(frozen=True)
class Claim:
    lease: dt.datetime
    rows: list[tuple[int, str, dict]]  # (submission id, puid, payload), in the order sent


def claim(*, size: int, lease_for: dt.timedelta) -> Claim | None:
    """Take up to `size` due statements for this worker, oldest due first."""
    now = clock.now()
    lease = now + lease_for
    with transaction.atomic():
        ids = list(
            StatementSubmission.objects.due(at=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return None
        StatementSubmission.objects.filter(pk__in=ids).update(lease_until=lease)
    payloads = {
        sid: (puid, payload)
        for sid, puid, payload in StatementSubmission.objects.filter(pk__in=ids).values_list(
            "id", "statement__puid", "statement__payload"
        )
    }
    return Claim(lease, [(sid, *payloads[sid]) for sid in ids])


def settle(batch: Claim, answer: Answer, *, actor: object) -> BatchResult:
    """Record each statement's outcome from the answer, with the batch's audit entry, in one
    transaction; rows whose lease this worker no longer holds are left alone."""
    now = clock.now()
    result = BatchResult(sent=len(batch.rows))
    with transaction.atomic():
        held = {
            s.pk: s
            for s in StatementSubmission.objects.select_for_update().filter(
                pk__in=[sid for sid, _, _ in batch.rows], lease_until=batch.lease
            )
        }
        for position, (sid, puid, _) in enumerate(batch.rows):
            row = held.get(sid)
            if row is None:
                continue
            row.attempts += 1
            row.last_attempt_at = now
            row.last_status_code = answer.status_code
            row.lease_until = None
            _apply(row, position, puid, answer, now, result)
        StatementSubmission.objects.bulk_update(
            held.values(),
            [
                "status",
                "attempts",
                "next_attempt_at",
                "lease_until",
                "last_attempt_at",
                "last_status_code",
                "last_error",
                "accepted_at",
                "tdb_uuid",
            ],
        )
        audit.record(
            actor=actor,
            action="integrations.statements.batch_submitted",
            target_type="transparency_db",
            target_id="statements",
            after={
                "answer": answer.kind.value,
                "status_code": answer.status_code,
                "sent": result.sent,
                "accepted": result.accepted,
                "already_accepted": result.already_accepted,
                "rejected": result.rejected,
                "resend": result.resend,
                "postponed": result.postponed,
            },
        )
    return result


def _apply(
    row: StatementSubmission,
    position: int,
    puid: str,
    answer: Answer,
    now: dt.datetime,
    result: BatchResult,
) -> None:
    kind = answer.kind
    if kind is Kind.CREATED:
        _accept(row, now, uuid=answer.uuids.get(puid, ""))
        result.accepted += 1
    elif kind is Kind.DUPLICATES and puid in answer.existing_puids:
        # Already in the database: an earlier call was created but its answer never reached us.
        _accept(row, now, uuid="")
        result.already_accepted += 1
    elif kind is Kind.INVALID and position in answer.invalid:
        row.status = Status.REJECTED
        row.next_attempt_at = now
        row.last_error = answer.invalid[position]
        result.rejected += 1
    elif kind in (Kind.DUPLICATES, Kind.INVALID):
        # Nothing of a 422 call is created: send this one again at once, without the others.
        row.next_attempt_at = now
        row.last_error = ""
        result.resend += 1
    elif kind is Kind.UNAUTHORISED:
        # Not this statement's fault: it keeps its place and is due again at the next run.
        row.attempts -= 1
        row.next_attempt_at = now
        row.last_error = answer.error
        result.postponed += 1
    else:
        wait = answer.retry_after if answer.retry_after is not None else backoff(row.attempts)
        row.next_attempt_at = now + wait
        row.last_error = answer.error
        result.postponed += 1


def _accept(row: StatementSubmission, now: dt.datetime, *, uuid: str) -> None:
    row.status = Status.ACCEPTED
    row.accepted_at = now
    row.tdb_uuid = uuid
    row.last_error = ""


def _attributable(answer: Answer, batch: Claim) -> bool:
    """A 422 must name at least one statement of the call, or the run would resend it forever."""
    if answer.kind is Kind.DUPLICATES:
        return any(puid in answer.existing_puids for _, puid, _ in batch.rows)
    if answer.kind is Kind.INVALID:
        return any(0 <= i < len(batch.rows) for i in answer.invalid)
    return True


def run(
    *,
    actor: object,
    endpoint: Endpoint | None = None,
    max_batches: int | None = None,
    batch_size: int = BATCH_MAX,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> RunSummary:
    """Submit what is due, batch after batch, until nothing is due, the server asks us to stop
    (token refused, throttled, down) or `max_batches` were sent; see the module docstring."""
    endpoint = endpoint or Endpoint.configured()
    if endpoint is None:
        logger.info("TRANSPARENCY_DB_URL is empty: statement submission is off; nothing sent")
        return RunSummary(enabled=False)
    if not 1 <= batch_size <= BATCH_MAX:
        raise ValueError(f"a batch holds 1 to {BATCH_MAX} statements")
    summary = RunSummary(enrolled=enrol())
    lease_for = dt.timedelta(seconds=endpoint.timeout + 60)
    while max_batches is None or summary.batches < max_batches:
        batch = claim(size=batch_size, lease_for=lease_for)
        if batch is None:
            break
        answer = transparency_db.post_statements(endpoint, [p for _, _, p in batch.rows])
        if not _attributable(answer, batch):
            answer = Answer(Kind.REFUSED, status_code=answer.status_code, error=answer.error)
        result = settle(batch, answer, actor=actor)
        summary.batches += 1
        summary.batch_sizes.append(result.sent)
        summary.sent += result.sent
        summary.accepted += result.accepted
        summary.already_accepted += result.already_accepted
        summary.rejected += result.rejected
        summary.postponed += result.postponed
        if on_batch is not None:
            on_batch(result)
        if answer.kind in STOPPING:
            summary.stopped, summary.error = answer.kind, answer.error
            logger.warning("statement submission stopped: %s", answer.error)
            break
    summary.pending = StatementSubmission.objects.pending().count()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="integrations.statements.submission_run",
            target_type="transparency_db",
            target_id="statements",
            after=summary.counts(),
        )
    logger.info("statement submission run: %s", summary.counts())
    return summary
