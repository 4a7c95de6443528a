"""`python manage.py relay_outbox`: publish the outbox rows a broker outage left behind.

The beat schedule runs the same relay every 30 seconds; this command is for an operator who has
just brought the broker back, or a deployment without beat. It exits non-zero while the broker is
still unreachable, so a script can retry it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from safety_portal.core.outbox import dispatch
from safety_portal.core.outbox.models import OutboxMessage


class Command(BaseCommand):
    help = "Publish pending outbox messages to the Celery broker."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--batch", type=int, default=500, help="Rows claimed per round.")
        parser.add_argument("--max-batches", type=int, default=1000)

    def handle(self, *args, batch: int, max_batches: int, **options) -> None:  # type: ignore[no-untyped-def]
        if batch < 1 or max_batches < 1:
            raise CommandError("--batch and --max-batches must be at least 1.")
        result = dispatch.relay_all(batch=batch, max_batches=max_batches)
        waiting = OutboxMessage.objects.pending().count()
        self.stdout.write(
            f"dispatched {result.dispatched}, failed {result.failed}, still pending {waiting}"
        )
        if result.broker_down:
            raise CommandError("The broker is unreachable; pending messages were kept.")
