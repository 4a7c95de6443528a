"""Refused contact attempts: one row per start, add or send the policy refused (issue 4).

Written only by the messaging doors on a refusal (they hold the actor's identity), never audited
(cheap on purpose); read by moderation for the contact-risk signal, per sender and per recipient.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import models

from accounts.models import User
from safety_portal.core import clock

from ..guards import GuardedQuerySet

if TYPE_CHECKING:
    from ..models import RefusedContactAttempt, Thread


class RefusedContactAttemptQuerySet(GuardedQuerySet):
    def by_sender(self, user: User | int) -> RefusedContactAttemptQuerySet:
        return self.filter(sender=user)

    def against(self, user: User | int) -> RefusedContactAttemptQuerySet:
        """Attempts to reach this person."""
        return self.filter(recipient=user)

    def since(self, at: dt.datetime) -> RefusedContactAttemptQuerySet:
        return self.filter(at__gte=at)

    def with_reason(self, *reasons: str) -> RefusedContactAttemptQuerySet:
        return self.filter(reason__in=[str(r) for r in reasons])

    def counts_by_sender(self) -> dict[int, int]:
        return dict(
            self.order_by()
            .values("sender_id")
            .annotate(n=models.Count("id"))
            .values_list("sender_id", "n")
        )


class RefusedContactAttemptManager(
    models.Manager.from_queryset(RefusedContactAttemptQuerySet)  # type: ignore[misc]
):
    def record(
        self,
        *,
        action: str,
        reason: str,
        sent_via: str,
        sender: User | None = None,
        sender_id: int | None = None,
        recipient_id: int | None = None,
        thread: Thread | None = None,
    ) -> RefusedContactAttempt:
        """One row per refusal, written by the doors only (they hold the actor's identity)."""
        row = self.model(
            sender_id=sender_id if sender_id is not None else sender.pk,
            recipient_id=recipient_id,
            thread=thread,
            action=action,
            reason=str(reason),
            at=clock.now(),
            sent_via=sent_via,
        )
        row.save(_door=True, force_insert=True)
        return row
