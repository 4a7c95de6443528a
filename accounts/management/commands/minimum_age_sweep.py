"""`python manage.py minimum_age_sweep`: find accounts below the minimum age (POLICY.md §7.3).

    minimum_age_sweep --due                         the sweeps of rules that took effect lately
    minimum_age_sweep --country AU [--on DATE]      a sweep started by staff
    minimum_age_sweep --counts --from D --to D [--country AU] [--csv FILE]   the regulator's counts

A sweep shows its progress, resumes where a killed run stopped, and runs once per key.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import DomainError

from ... import minimum_age_sweep as sweeps


def _date(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = "Run the minimum-age sweep (POLICY.md §7.3), or print the regulator's counts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--due", action="store_true", help="Sweeps of rules just in force.")
        parser.add_argument("--country", help="ISO 3166-1 alpha-2 code, e.g. AU.")
        parser.add_argument(
            "--on", help="Ask the rules as of this date (YYYY-MM-DD); default today."
        )
        parser.add_argument("--counts", action="store_true", help="Print the regulator's counts.")
        parser.add_argument("--from", dest="start", help="First day of the counts' period.")
        parser.add_argument("--to", dest="end", help="Last day of the counts' period.")
        parser.add_argument("--csv", help="Write the counts to this CSV file.")
        parser.add_argument("--batch-size", type=int, default=sweeps.BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        actor = SystemActor(sweeps.JOB)
        if options["counts"]:
            return self._counts(options)
        if options["due"]:
            for sweep in sweeps.run_due(actor=actor, batch_size=options["batch_size"]):
                self.stdout.write(f"{sweep.key}: {sweep.found} account(s) placed under review")
            return None
        if not options["country"]:
            raise CommandError("Give --due, --counts, or --country CODE for a sweep.")
        on = _date(options["on"], "--on") or clock.today()
        country = options["country"].strip().upper()
        try:
            sweep = sweeps.start(
                key=f"staff:{country}:{on.isoformat()}",
                country=country,
                on=on,
                source=f"Started from the command line for {country} as of {on.isoformat()}.",
                actor=actor,
            )
        except DomainError as exc:
            raise CommandError(f"--country {options['country']!r}: {exc}") from exc
        total = sweeps.cohort(sweep.country, on=sweep.on).filter(pk__gt=sweep.last_user_id).count()
        with tqdm(total=total, desc=sweep.key, unit="", disable=None, file=sys.stderr) as bar:
            sweep = sweeps.run(
                sweep, actor=actor, batch_size=options["batch_size"], progress=bar.update
            )
        self.stdout.write(
            self.style.SUCCESS(f"{sweep.key}: {sweep.found} account(s) placed under review.")
        )
        return None

    def _counts(self, options: dict[str, Any]) -> None:
        start, end = _date(options["start"], "--from"), _date(options["end"], "--to")
        if start is None or end is None:
            raise CommandError("--counts needs --from and --to (YYYY-MM-DD).")
        if end < start:
            raise CommandError("--to must not be before --from.")
        rows = sweeps.regulator_counts(start_on=start, end_on=end, country=options["country"])
        header = ["country", *sweeps.COUNT_COLUMNS]
        if options["csv"]:
            with open(options["csv"], "w", newline="", encoding="utf-8") as handle:
                sweeps.write_counts_csv(rows, handle)
            self.stdout.write(f"Wrote {len(rows)} row(s) to {options['csv']}.")
            return
        self.stdout.write("  ".join(f"{h:>14}" for h in header))
        for row in rows:
            self.stdout.write("  ".join(f"{row[h]!s:>14}" for h in header))
        if not rows:
            self.stdout.write("No account was found below the minimum age in that period.")
