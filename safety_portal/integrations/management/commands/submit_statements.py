"""`python manage.py submit_statements`: send due statements of reasons to the Transparency Database.

The same run as the 5-minute Celery job (`statement_submission.run`), with a progress bar on a
terminal. Exit status 0 when nothing is left to send; non-zero, with a sentence saying what to do,
when the database refuses the token (401/403), cannot be reached, is down or throttles us (the
statements stay pending and are retried: nothing is lost). Rejected statements are listed in the
portal (Statements of reasons → Transparency Database).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from safety_portal.core.audit.actors import SystemActor
from safety_portal.integrations import statement_submission
from safety_portal.integrations.models import StatementSubmission
from safety_portal.integrations.transparency_db import Kind

WHY = {
    Kind.UNAUTHORISED: (
        "the Transparency Database refused the token ({error}). Check TRANSPARENCY_DB_TOKEN, or "
        "generate a new token in the database's user profile."
    ),
    Kind.UNAVAILABLE: (
        "the Transparency Database is unreachable or failing ({error}). The statements stay "
        "pending and are retried with backoff."
    ),
    Kind.RATE_LIMITED: (
        "the Transparency Database asked us to slow down ({error}). The statements stay pending "
        "and are retried after its Retry-After."
    ),
    Kind.REFUSED: (
        "the Transparency Database refused the call ({error}). Check TRANSPARENCY_DB_URL; the "
        "statements stay pending."
    ),
}


class Command(BaseCommand):
    help = "Submit pending statements of reasons to the DSA Transparency Database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=statement_submission.BATCH_MAX,
            help=f"Statements per call, 1 to {statement_submission.BATCH_MAX} (default 100).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["batch_size"]
        if not 1 <= size <= statement_submission.BATCH_MAX:
            raise CommandError(
                f"--batch-size must be between 1 and {statement_submission.BATCH_MAX}."
            )
        statement_submission.enrol()
        due = StatementSubmission.objects.pending().count()
        with tqdm(
            total=due, unit="statement", desc="submitted", file=sys.stderr, disable=None
        ) as bar:
            summary = statement_submission.run(
                actor=SystemActor("command.submit_statements"),
                batch_size=size,
                on_batch=lambda result: bar.update(result.sent - result.resend - result.postponed),
            )
        if not summary.enabled:
            self.stderr.write("TRANSPARENCY_DB_URL is empty: submission is off; nothing was sent.")
            return
        self.stderr.write(
            f"Sent {summary.batches} call(s): {summary.accepted} accepted, "
            f"{summary.already_accepted} already in the database, {summary.rejected} rejected "
            f"(see the portal), {summary.pending} still pending."
        )
        if summary.stopped is not None:
            raise CommandError("Stopped: " + WHY[summary.stopped].format(error=summary.error))
        if summary.pending:
            raise CommandError(
                f"{summary.pending} statement(s) are waiting for a retry; run again later."
            )
