"""`python manage.py apply_minor_defaults`: move existing minors to the rules in force (POLICY.md
§7.4), audited, with a notice each; `--dry-run` only counts. Safe to run again: it finds nobody."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from safety_portal.core.audit.actors import SystemActor

from ... import minor_defaults


class Command(BaseCommand):
    help = "Move minors' stored settings within today's ceilings and defaults (POLICY.md §7.4)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--batch-size", type=int, default=minor_defaults.BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        pending = minor_defaults.count_pending()
        if options["dry_run"]:
            self.stdout.write(f"{pending} account(s) would move to {minor_defaults.POLICY}.")
            return
        with tqdm(total=pending, desc="accounts", unit="", disable=None, file=sys.stderr) as bar:
            result = minor_defaults.apply(
                actor=SystemActor(minor_defaults.JOB),
                batch_size=options["batch_size"],
                progress=bar.update,
            )
        moved = ", ".join(f"{name} {n}" for name, n in sorted(result.by_setting.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.moved} of {result.examined} account(s) moved to {minor_defaults.POLICY}"
                + (f" ({moved})" if moved else "")
                + "; each was audited and sent a notice."
            )
        )
