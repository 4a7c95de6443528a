"""`python manage.py seed_demo`: believable demo data, safe to run again.

Each app contributes a seeder (`<app>/demo.py`, function `seed(ctx)`), run in dependency order. Every
seeder is idempotent: it looks for its own rows by stable names and creates only what is missing, so a
second run adds nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safety_portal.demo import DemoContext

SEEDERS = ["accounts.demo", "messaging.demo", "moderation.demo"]


class Command(BaseCommand):
    help = "Seed believable demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=20261129, help="Random seed.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")
        parser.add_argument(
            "--only",
            action="append",
            choices=[name.split(".")[0] for name in SEEDERS],
            help="Seed only this app (repeatable); its dependencies must be seeded already.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = DemoContext(rng=random.Random(options["seed"]), out=self.stdout, style=self.style)
        only = set(options["only"] or ())
        for name in SEEDERS:
            if only and name.split(".")[0] not in only:
                continue
            if importlib.util.find_spec(name) is None:
                continue  # that app has no demo data yet
            module = importlib.import_module(name)
            self.stdout.write(self.style.MIGRATE_HEADING(f"Seeding {name.split('.')[0]}..."))
            module.seed(ctx)
        if not options["quiet_logins"]:
            ctx.print_logins()
