"""`python manage.py export_statements --since DATE --out FILE`: statements of reasons as JSON.

Writes the stored statements (DSA art. 17, art. 24(5); POLICY.md §6) created at or after DATE as
batches the Transparency Database's multiple-statement endpoint accepts: each line of FILE is one
`{"statements": [...]}` object of at most 100 statements (JSON Lines, so a file of any size is
written and read batch by batch). `--out -` writes to standard output. A bad date or an unwritable
path is a clear error with a non-zero exit status, and no partial file is left behind.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from moderation import statements
from moderation.models import StatementOfReasons
from safety_portal.core.replica import heavy_reads
from safety_portal.rules.sor_vocabulary import BATCH_MAX_STATEMENTS


class Command(BaseCommand):
    help = "Export statements of reasons as {'statements': [...]} batches of at most 100 (JSONL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            required=True,
            help="Export statements created at or after this date (YYYY-MM-DD) or ISO date-time.",
        )
        parser.add_argument(
            "--out", required=True, help="Output file (JSON Lines), or - for stdout."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_MAX_STATEMENTS,
            help=f"Statements per batch, 1 to {BATCH_MAX_STATEMENTS} (default {BATCH_MAX_STATEMENTS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = statements.parse_since(options["since"])
        except ValueError as exc:
            raise CommandError(f"--since: {exc}.") from None
        size = options["batch_size"]
        if not 1 <= size <= BATCH_MAX_STATEMENTS:
            raise CommandError(f"--batch-size must be between 1 and {BATCH_MAX_STATEMENTS}.")
        with heavy_reads():  # an export reads much and nothing it writes (issue 14.4)
            total = StatementOfReasons.objects.since(since).count()
            out = options["out"]
            if out == "-":
                written = self._write(sys.stdout, since, size, total, progress=False)
            else:
                written = self._write_file(Path(out), since, size, total)
        self.stderr.write(
            f"Exported {written} statement(s) created since {since.isoformat()} "
            f"in batches of at most {size}."
        )

    def _write_file(self, path: Path, since: Any, size: int, total: int) -> int:
        target = path.expanduser()
        if target.is_dir():
            raise CommandError(f"--out: {target} is a directory; give a file name.")
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise CommandError(f"--out: the folder {folder} does not exist.")
        try:
            handle, temp_name = tempfile.mkstemp(prefix=".statements-", dir=folder)
        except OSError as exc:
            raise CommandError(f"--out: cannot write in {folder}: {exc.strerror}.") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                written = self._write(stream, since, size, total, progress=True)
            os.replace(temp_name, target)
        except OSError as exc:
            Path(temp_name).unlink(missing_ok=True)
            raise CommandError(f"--out: cannot write {target}: {exc.strerror}.") from None
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return written

    def _write(self, stream: Any, since: Any, size: int, total: int, *, progress: bool) -> int:
        written = 0
        # A progress bar on a terminal only (tqdm's disable=None turns it off elsewhere).
        with tqdm(
            total=total,
            unit="statement",
            desc="statements",
            file=sys.stderr,
            disable=None if progress else True,
        ) as bar:
            for batch in statements.batches(since, size=size):
                stream.write(json.dumps(batch, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += len(batch["statements"])
                bar.update(len(batch["statements"]))
        return written
