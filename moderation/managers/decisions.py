"""Decisions, the strikes they add and the statements of reasons they store: reads and guarded writes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock

from .. import conf

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import (
        Decision,
        Strike,
    )


# What "final" and "standing" mean, said once: the querysets below filter by them and the model's
# `one_standing_decision_per_case` constraint is built from them.
FINAL = ~Q(type="escalate")  # an escalation hands the case on; it decides nothing
STANDING = Q(overturned_at__isnull=True)  # not overturned by an appeal


class DecisionQuerySet(models.QuerySet):
    def final(self) -> DecisionQuerySet:
        return self.filter(FINAL)

    def restricting(self) -> DecisionQuerySet:
        return self.filter(type__in=[t.value for t in rules.decisions.RESTRICTING])

    def standing(self) -> DecisionQuerySet:
        return self.filter(STANDING)

    def for_user(self, user: User) -> DecisionQuerySet:
        return self.filter(target_user=user)

    def under_age_unappealed(self, *, at: dt.datetime) -> DecisionQuerySet:
        """Under-age decisions still standing once their 180-day window closed, with no appeal
        or with the appeal rejected (POLICY.md §4; issue 7 closes those accounts). A pending
        appeal keeps the account open until it is decided."""
        return self.standing().filter(
            Q(appeal__isnull=True) | Q(appeal__status="rejected"),
            type="require_age_verification",
            appeal_deadline__lte=at,
        )


DecisionManager = models.Manager.from_queryset(DecisionQuerySet)


class StrikeQuerySet(models.QuerySet):
    def active(self, *, at: dt.datetime) -> StrikeQuerySet:
        return self.filter(removed_at__isnull=True, created_at__lte=at, expires_at__gt=at)


class StrikeManager(models.Manager.from_queryset(StrikeQuerySet)):  # type: ignore[misc]
    def count_active(self, user: User | int, *, at: dt.datetime) -> int:
        return self.active(at=at).filter(user=user).count()

    def add(self, *, user: User, decision: Decision, actor: object) -> Strike:
        """One strike for an upheld violation; it expires after MODERATION_STRIKE_TTL_DAYS."""
        now = clock.now()
        with transaction.atomic():
            strike = self.create(
                user=user, decision=decision, created_at=now, expires_at=now + conf.strike_ttl()
            )
            audit.record(
                actor=actor,
                action="moderation.strike.added",
                target=user,
                after={
                    "strike": strike.pk,
                    "decision": decision.pk,
                    "expires_at": strike.expires_at,
                },
            )
        return strike

    def remove(self, strike: Strike, *, actor: object, reason: str) -> Strike:
        with transaction.atomic():
            locked = self.select_for_update().get(pk=strike.pk)
            if locked.removed_at is not None:
                return locked
            locked.removed_at = clock.now()
            locked.removed_reason = reason
            locked.save(update_fields=["removed_at", "removed_reason"])
            audit.record(
                actor=actor,
                action="moderation.strike.removed",
                target=locked.user,
                reason=reason,
                before={"strike": locked.pk},
            )
        return locked


class StatementQuerySet(models.QuerySet):
    def since(self, moment: dt.datetime) -> StatementQuerySet:
        return self.filter(created_at__gte=moment).order_by("created_at", "id")


StatementManager = models.Manager.from_queryset(StatementQuerySet)
