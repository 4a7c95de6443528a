"""`manage.py verify_audit_log`: prove the audit log is whole, or name the first bad entry.

Exit status: 0 intact; 1 tampering found (an entry altered, removed or reordered, an anchor the
chain contradicts, a chain shorter than the newest anchor, or an anchor store holding garbage);
2 cannot verify (bad options, an anchor store that cannot be reached). The check itself lives in
`safety_portal.core.audit.verification`, shared with the portal's audit page.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from safety_portal.core.audit import archive
from safety_portal.core.audit.anchors import AnchorError
from safety_portal.core.audit.models import AuditArchive
from safety_portal.core.audit.verification import ANCHOR_CHOICES, verify_chain

EXIT_TAMPERED = 1
EXIT_CANNOT_VERIFY = 2


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain in seq order and check it against the external anchors. "
        "Exits 0 when intact, 1 naming the first bad entry, 2 when it cannot verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5_000,
            help="Rows fetched per round trip from the streaming cursor (default 5000).",
        )
        parser.add_argument(
            "--anchors",
            choices=ANCHOR_CHOICES,
            default="all",
            help=(
                "Which anchor stores to check: all configured (default), only the Redis stream, "
                "only the file, or none (chain only; tail truncation then goes unnoticed)."
            ),
        )

        parser.add_argument(
            "--archive-dir",
            default=None,
            help="Where the archived months are (default AUDIT_ARCHIVE_DIR); they are merged in.",
        )
        parser.add_argument(
            "--archive",
            default=None,
            metavar="FILE",
            help=(
                "Check one archive file on its own (its entries, links and header, and its "
                "SHA-256 against the register when it is registered) instead of the whole log."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["archive"]:
            self._check_archive(Path(options["archive"]))
            return
        # A progress bar on a terminal only: logs and cron mail get the one-line verdict.
        bar = tqdm(
            unit=" entries",
            unit_scale=True,
            desc="verifying",
            file=sys.stderr,
            disable=not self.stderr.isatty(),
            mininterval=0.5,
        )

        def progress(checked: int, total: int) -> None:
            bar.total = max(total, checked)
            bar.update(checked - bar.n)

        try:
            with bar:
                result = verify_chain(
                    anchors=options["anchors"],
                    chunk_size=options["chunk_size"],
                    on_progress=progress,
                    archive_dir=Path(options["archive_dir"]) if options["archive_dir"] else None,
                )
        except ValueError as exc:
            raise CommandError(f"{exc}.", returncode=EXIT_CANNOT_VERIFY) from exc
        except AnchorError as exc:
            raise CommandError(
                f"cannot read the audit anchors ({exc}); fix the store, or run with "
                "--anchors none to check the chain alone.",
                returncode=EXIT_CANNOT_VERIFY,
            ) from exc

        if not result.ok:
            self.stderr.write(result.summary())
            sys.exit(EXIT_TAMPERED)
        self.stdout.write(result.summary())

    def _check_archive(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"no archive file at {path}.", returncode=EXIT_CANNOT_VERIFY)
        registered = AuditArchive.objects.filter(file_name=path.name).first()
        result = archive.check_file(path, expected_sha256=registered.sha256 if registered else None)
        if not result.ok:
            self.stderr.write(result.summary())
            sys.exit(EXIT_TAMPERED)
        where = (
            "matches the register"
            if registered
            else "not in this database's register (checked on its own)"
        )
        self.stdout.write(f"{result.summary()}; {where}.")
