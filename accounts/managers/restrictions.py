"""Restrictions on an account: reads and the guarded writes of the `Restriction` aggregate.

A restriction belongs with the account it restricts: messaging asks "may this person send?" and the
answer needs the restrictions in force, so they live on the floor messaging stands on (issue 10).
Moderation imposes and lifts them as the effect of a decision; the decision that imposed one is
recorded in moderation's effect ledger, which points down here, never the other way round.

Whether a restriction is in force is decided by its times (`starts_at <= at < ends_at`, not lifted),
never by a job: a temporary restriction ends by itself (docs/decisions.md D5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError

if TYPE_CHECKING:
    from ..models import Restriction, User


@dataclass(frozen=True)
class ActiveRestrictions:
    """What is in force on one account right now: the features closed and whether it is suspended."""

    features: frozenset[rules.vocabulary.Feature] = field(default_factory=frozenset)
    suspended: bool = False


class RestrictionQuerySet(models.QuerySet):
    def active(self, *, at: dt.datetime) -> RestrictionQuerySet:
        return self.filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at), starts_at__lte=at, lifted_at__isnull=True
        )

    def by_user(self, user_ids: Iterable[int], *, at: dt.datetime) -> dict[int, ActiveRestrictions]:
        """Active restrictions of many users in one query (messaging's constant-cost send)."""
        found: dict[int, tuple[set[rules.vocabulary.Feature], bool]] = {}
        rows = self.active(at=at).filter(user_id__in=list(user_ids))
        for user_id, kind, feature in rows.values_list("user_id", "kind", "feature"):
            features, _ = found.setdefault(user_id, (set(), False))
            if kind == "suspension":
                found[user_id] = (features, True)
            else:
                features.add(rules.vocabulary.Feature(feature))
        return {
            uid: ActiveRestrictions(frozenset(f), suspended)
            for uid, (f, suspended) in found.items()
        }

    def ended_unrecorded(self, *, at: dt.datetime) -> RestrictionQuerySet:
        """Restrictions whose end time has passed but whose end nobody has recorded yet."""
        return self.filter(
            ends_at__isnull=False,
            ends_at__lte=at,
            end_recorded_at__isnull=True,
            lifted_at__isnull=True,
        )


class RestrictionManager(models.Manager.from_queryset(RestrictionQuerySet)):  # type: ignore[misc]
    def impose(
        self,
        *,
        user: User,
        kind: str,
        feature: str = "",
        starts_at: dt.datetime,
        ends_at: dt.datetime | None,
        reason: str,
        decision_id: int | None,
        actor: object,
    ) -> Restriction:
        """Create a restriction, audited. In force from `starts_at` until `ends_at` (or lifted).

        `decision_id` only goes into the audit entry: the caller (a moderation decision) records
        the restriction in its own effect ledger in the same transaction.
        """
        if ends_at is not None and ends_at <= starts_at:
            raise DomainError("invalid", "A restriction must end after it starts.")
        with transaction.atomic():
            restriction = self.create(
                user=user,
                kind=kind,
                feature=feature,
                reason=reason,
                starts_at=starts_at,
                ends_at=ends_at,
                created_at=clock.now(),
            )
            audit.record(
                actor=actor,
                action="moderation.restriction.imposed",
                target=user,
                reason=reason,
                after={
                    "restriction": restriction.pk,
                    "kind": kind,
                    "feature": feature,
                    "ends_at": ends_at,
                    "decision": decision_id,
                },
            )
        return restriction

    def lift(self, restriction: Restriction, *, actor: object, reason: str) -> Restriction:
        """End a restriction early (an overturned decision), audited. Lifting twice is a no-op."""
        with transaction.atomic():
            locked = self.select_for_update().get(pk=restriction.pk)
            if locked.lifted_at is not None:
                return locked
            locked.lifted_at = clock.now()
            locked.lift_reason = reason
            locked.save(update_fields=["lifted_at", "lift_reason"])
            audit.record(
                actor=actor,
                action="moderation.restriction.lifted",
                target=locked.user,
                reason=reason,
                before={"restriction": locked.pk, "ends_at": locked.ends_at},
                after={"lifted_at": locked.lifted_at},
            )
        return locked
