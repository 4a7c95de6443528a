"""`manage.py archive_audit_partition --month 2026-01`: export a past month of the audit log to a
file, verify it, and detach its partition (issue 14.5, D32).

The file goes to AUDIT_ARCHIVE_DIR (or --dir); ship it to write-once storage, and keep it where
`verify_audit_log` can read it: the full check reads every archive back. The detached partition
stays in the database as a table of its own, still refusing changes, until you drop it (or pass
--drop once the file is safely stored). Run it as the role that owns the table (detaching is DDL).
Exit status 0 archived; 1 refused or failed, with what to do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from safety_portal.core.audit import archive
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.partitions import Month


class Command(BaseCommand):
    help = "Archive one past month of the audit log to a verified file and detach its partition."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="The month to archive, YYYY-MM.")
        parser.add_argument("--dir", default=None, help="Where to write (AUDIT_ARCHIVE_DIR).")
        parser.add_argument(
            "--drop",
            action="store_true",
            help="Drop the detached partition once archived (default: keep it, read-only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = Month.parse(options["month"])
        except ValueError as exc:
            raise CommandError(f"--month: {exc}.") from exc
        bar = tqdm(
            unit=" entries",
            unit_scale=True,
            desc=f"archiving {month}",
            file=sys.stderr,
            disable=not self.stderr.isatty(),
            mininterval=0.5,
        )
        try:
            with bar:
                done = archive.archive_month(
                    month,
                    actor=SystemActor("command.archive_audit_partition"),
                    directory=Path(options["dir"]) if options["dir"] else None,
                    drop=options["drop"],
                    on_progress=lambda n: bar.update(n - bar.n),
                )
        except archive.ArchiveRefused as exc:
            raise CommandError(f"cannot archive {month}: {exc}.") from exc
        kept = "dropped" if options["drop"] else "detached and kept read-only; drop it when stored"
        self.stdout.write(
            f"archived {done.partition}: {done.entries:,} entries (#{done.first_seq}.."
            f"#{done.last_seq}) to {done.file_name}, sha256 {done.sha256}; the partition is {kept}."
        )
