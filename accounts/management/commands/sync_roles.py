"""`python manage.py sync_roles`: make the staff groups hold exactly the permissions of roles.py."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.roles import sync_roles


class Command(BaseCommand):
    help = "Create/update the staff role groups to match accounts/roles.py exactly."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-missing",
            action="store_true",
            help="Do not fail when a listed permission does not exist (an app not migrated yet).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync_roles()
        for name in result["changed"]:
            self.stdout.write(f"updated role {name}")
        if result["missing"]:
            message = "permissions listed in accounts/roles.py do not exist: " + ", ".join(
                result["missing"]
            )
            if not options["allow_missing"]:
                raise CommandError(message)
            self.stderr.write(message)
        self.stdout.write(self.style.SUCCESS("roles are in step with accounts/roles.py"))
