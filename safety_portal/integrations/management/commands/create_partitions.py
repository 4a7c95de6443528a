"""`python manage.py create_partitions`: the daily job by hand (issue 14.5, D32).

Creates this month's partition and the next PARTITION_MONTHS_AHEAD months' for the audit log and
the messages, and lists what each table has. Exit status 1 when a month is blocked (its rows are
already in the DEFAULT partition), with what to do; nothing is written for that month.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safety_portal.core import clock
from safety_portal.core import partitions as mechanism
from safety_portal.integrations import partitions


class Command(BaseCommand):
    help = "Create the monthly partitions of the audit log and the messages ahead of time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months-ahead",
            type=int,
            default=None,
            help="Months after the current one to prepare (default PARTITION_MONTHS_AHEAD).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ahead = options["months_ahead"]
        if ahead is not None and not 0 <= ahead <= 24:
            raise CommandError("--months-ahead must be between 0 and 24.")
        if not mechanism.supported():
            self.stdout.write("This database has no partitions (SQLite): nothing to do.")
            return
        blocked = []
        for result in partitions.create_ahead(clock.today(), ahead):
            spec = next(s for s in partitions.PARTITIONED if s.table == result.table)
            have = mechanism.names(mechanism.partitions(spec))
            made = ", ".join(result.created) or "none"
            self.stdout.write(f"{result.table}: created {made}; has {', '.join(have)}")
            blocked += [f"{result.table} {month}: {why}" for month, why in result.blocked]
        if blocked:
            raise CommandError("some months could not be created:\n  " + "\n  ".join(blocked))
