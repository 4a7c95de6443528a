"""`python manage.py create_api_client NAME --scopes users:read,reports:write` (issue 6).

Prints the token once; only its SHA-256 hash is stored. With --webhook-url, also registers a webhook
for the given events and prints its signing secret once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from safety_portal.core.api.models import ApiClient, WebhookEndpoint, WebhookEvent
from safety_portal.core.api.scopes import ALL_SCOPES
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API client and print its token (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name, e.g. app-backend or classifier.")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated scopes: {', '.join(ALL_SCOPES)}.",
        )
        parser.add_argument(
            "--throttle-rate", default="", help="Per-client rate, e.g. 600/min (default: setting)."
        )
        parser.add_argument("--webhook-url", default="", help="Also register this webhook URL.")
        parser.add_argument(
            "--webhook-events",
            default=",".join(WebhookEvent.values),
            help=f"Comma-separated events for --webhook-url: {', '.join(WebhookEvent.values)}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = SystemActor("command.create_api_client")
        try:
            with transaction.atomic():  # a bad webhook URL leaves no client behind
                client, token, secret = self._create(actor, options)
        except DomainError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.detail}{' (' + details + ')' if details else ''}") from exc
        self.stdout.write(f"Created API client {client.name!r} (id {client.pk}).")
        self.stdout.write(f"Scopes: {', '.join(client.scopes) or '(none)'}")
        self.stdout.write("Token (shown once; store it in the client's secret store):")
        self.stdout.write(token)
        if secret:
            self.stdout.write("Webhook signing secret (shown once):")
            self.stdout.write(secret)

    def _create(self, actor: SystemActor, options: dict[str, Any]) -> tuple[ApiClient, str, str]:
        client, token = ApiClient.objects.create_client(
            name=options["name"],
            scopes=options["scopes"],
            throttle_rate=options["throttle_rate"],
            actor=actor,
        )
        secret = ""
        if options["webhook_url"]:
            events = [e.strip() for e in options["webhook_events"].split(",") if e.strip()]
            _, secret = WebhookEndpoint.objects.register(
                client=client, url=options["webhook_url"], events=events, actor=actor
            )
        return client, token, secret
