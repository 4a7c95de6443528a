"""The outbox's read vocabulary: what is waiting, and what a relay may take now."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q


class OutboxMessageQuerySet(models.QuerySet):
    def pending(self) -> OutboxMessageQuerySet:
        """Not yet accepted by the broker."""
        return self.filter(dispatched_at__isnull=True)

    def claimable(self, *, at: dt.datetime) -> OutboxMessageQuerySet:
        """Pending and not held by another relay (or its lease ran out)."""
        return self.pending().filter(Q(lease_until__isnull=True) | Q(lease_until__lte=at))

    def dispatched_before(self, moment: dt.datetime) -> OutboxMessageQuerySet:
        return self.filter(dispatched_at__lt=moment)


OutboxMessageManager = models.Manager.from_queryset(OutboxMessageQuerySet)
