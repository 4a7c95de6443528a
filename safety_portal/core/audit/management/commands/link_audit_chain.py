"""`manage.py link_audit_chain`: link the committed audit entries into the hash chain now
(docs/decisions.md D23); the beat job `audit.link_chain` does the same every few seconds."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from safety_portal.core.audit.chainer import link_committed


class Command(BaseCommand):
    help = "Link committed audit entries into the hash chain (one chainer at a time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            type=int,
            default=5_000,
            help="Entries linked per transaction (default 5000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(
            unit=" entries", desc="linking", file=sys.stderr, disable=not self.stderr.isatty()
        )
        try:
            result = link_committed(
                batch=options["batch"], on_progress=lambda n: bar.update(n - bar.n)
            )
        except ValueError as exc:
            raise CommandError(f"{exc}. Pass --batch between 1 and 100000.") from exc
        finally:
            bar.close()
        head = f"#{result.head_seq}" if result.head_seq else "empty"
        waiting = (
            f"; {result.waiting:,} committed entries wait for an earlier writer that is still open"
            if result.waiting
            else ""
        )
        self.stdout.write(f"linked {result.linked:,} audit entries; chain head {head}{waiting}.")
