"""`python manage.py seed_demo`: believable demo data, safe to run again.

Each app contributes a seeder (`<app>/demo.py`, function `seed(ctx)`), run in dependency order. The
command lives in the roof because it is the one place that may call every floor (issue 10). Every
seeder is idempotent: it looks for its own rows by stable names and creates only what is missing, so
a second run adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts import demo as accounts_demo
from messaging import demo as messaging_demo
from moderation import demo as moderation_demo
from safety_portal.core import clock, partitions
from safety_portal.core.demo import DemoContext
from safety_portal.integrations.partitions import PARTITIONED

# App name -> its steps, in dependency order (accounts also gives staff their second factor).
SEEDERS: dict[str, list[Callable[[DemoContext], None]]] = {
    "accounts": [accounts_demo.seed],
    "messaging": [messaging_demo.seed],
    "moderation": [moderation_demo.seed],
}


class Command(BaseCommand):
    help = "Seed believable demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=20261129, help="Random seed.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")
        parser.add_argument(
            "--only",
            action="append",
            choices=list(SEEDERS),
            help="Seed only this app (repeatable); its dependencies must be seeded already.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = DemoContext(rng=random.Random(options["seed"]), out=self.stdout, style=self.style)
        only = set(options["only"] or ())
        _months_of_history()
        for name, steps in SEEDERS.items():
            if only and name not in only:
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"Seeding {name}..."))
            for step in steps:
                step(ctx)
        if not options["quiet_logins"]:
            ctx.print_logins()


# Accounts opened up to two years ago (accounts.demo), a month of reports (moderation.demo).
HISTORY_MONTHS = 25


def _months_of_history() -> None:
    """The demo writes history as of past days: on PostgreSQL its rows belong in their months'
    partitions, not in DEFAULT, which the partition alerts watch."""
    this_month = partitions.Month.of(clock.today())
    for spec in PARTITIONED:
        partitions.create_months(spec, this_month.plus(-HISTORY_MONTHS), this_month.plus(-1))
