"""`python manage.py file_received_reports`: file every waiting report receipt now (D38).

What the `moderation.file_received_reports` task does, run by hand: after an outage of the
workers, or to see why a receipt keeps waiting. Shows progress; prints how many were filed and
refused; exits 1 when some could not be filed (each is logged with its error and stays waiting
for the next run), naming them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from moderation.actions import receiving
from moderation.models import ReportReceipt


class Command(BaseCommand):
    help = "File the reports received with Prefer: respond-async that are still waiting."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=0, help="Stop after this many (default: all waiting)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit < 0:
            raise CommandError("--limit must be 0 (all) or more.")
        waiting = ReportReceipt.objects.waiting().count()
        todo = min(waiting, limit) if limit else waiting
        filed = refused = 0
        failed: list[int] = []
        with tqdm(total=todo, desc="filing", unit="report", disable=None) as bar:
            while filed + refused + len(failed) < todo:
                step = min(500, todo - filed - refused - len(failed))
                run = receiving.file_waiting(limit=step, skipping=failed)
                filed, refused = filed + run.filed, refused + run.refused
                failed += run.failed
                bar.update(run.done + len(run.failed))
                if not run.more:
                    break
        self.stdout.write(f"{filed} filed, {refused} refused, {len(failed)} failed.")
        if failed:
            raise CommandError(
                f"{len(failed)} receipts could not be filed ({', '.join(map(str, failed[:10]))}); each error "
                "is in the log above, and they stay waiting for the next run."
            )
