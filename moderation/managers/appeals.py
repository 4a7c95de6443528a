"""Appeals (DSA art. 20): the queue a reviewer who took no part in the decision may decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User


class AppealQuerySet(models.QuerySet):
    def pending(self) -> AppealQuerySet:
        return self.filter(status="pending").order_by("filed_at", "id")

    def decidable_by(self, reviewer: User) -> AppealQuerySet:
        """Pending appeals this reviewer may decide: never on their own decision (DSA art. 20(6))."""
        return self.pending().exclude(decision__decided_by=reviewer).exclude(appellant=reviewer)


AppealManager = models.Manager.from_queryset(AppealQuerySet)
