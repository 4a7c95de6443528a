"""`python manage.py rules --country FR --on 2026-09-01`: the jurisdiction rules in force for a
country on a date, with their sources, the changes due in the days after it, and the proposals
that are waiting for a date (POLICY.md §7.1).

Why a command: a moderator, a lawyer or a regulator's question ("what applied to this French
teenager on 1 September?") is answered from the same table the portal enforces, not from memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safety_portal.core import clock
from safety_portal.rules import jurisdictions

from ...choices import COUNTRY_CODES


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--on {text!r} is not a date; write it as YYYY-MM-DD.") from exc


def _value(rule: jurisdictions.JurisdictionRule) -> str:
    return "yes" if rule.value is True else str(rule.value)


def _window(rule: jurisdictions.JurisdictionRule) -> str:
    start = rule.effective_from.isoformat() if rule.effective_from else "always"
    end = f" until {rule.effective_to.isoformat()}" if rule.effective_to else ""
    return f"from {start}{end}"


class Command(BaseCommand):
    help = "Print the jurisdiction rules in force for a country on a date, and what changes soon."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. FR.")
        parser.add_argument("--on", help="The date to ask about (YYYY-MM-DD); default today.")
        parser.add_argument(
            "--days", type=int, default=90, help="How far ahead to list changes (default 90)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        country = options["country"].strip().upper()
        if country not in COUNTRY_CODES:
            raise CommandError(
                f"--country {options['country']!r} is not an ISO 3166-1 alpha-2 country code "
                "(for example FR, AU, GB)."
            )
        on = _parse_date(options["on"]) if options["on"] else clock.today()
        days = options["days"]
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        write = self.stdout.write

        write(self.style.MIGRATE_HEADING(f"Rules in force in {country} on {on.isoformat()}"))
        for rule in jurisdictions.rules_in_force(country, on=on):
            write(f"  {rule.description}: {_value(rule)}")
            write(f"    {rule.where}, {rule.status.value}, {_window(rule)}")
            write(f"    source: {rule.source}")

        end = on + dt.timedelta(days=days)
        write(self.style.MIGRATE_HEADING(f"Changes after {on.isoformat()} up to {end.isoformat()}"))
        changes = jurisdictions.changes_between(on, end, country=country)
        if not changes:
            write("  none")
        for change in changes:
            verb = "takes effect" if change.starts else "stops applying"
            rule = change.rule
            write(
                f"  {change.on.isoformat()}: {rule.description} ({rule.where}) = {_value(rule)} {verb}"
            )
            write(f"    source: {rule.source}")

        write(self.style.MIGRATE_HEADING("Proposed, off until a date is set"))
        proposed = jurisdictions.proposed_without_date(country=country)
        if not proposed:
            write("  none")
        for rule in proposed:
            write(f"  {rule.description} ({rule.where}) = {_value(rule)}")
            write(f"    source: {rule.source}")
