"""Moderation read vocabulary and guarded writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

from accounts import policy


@dataclass(frozen=True)
class ActiveRestrictions:
    features: frozenset[policy.Feature] = field(default_factory=frozenset)
    suspended: bool = False


class RestrictionQuerySet(models.QuerySet):
    def active(self, *, at: dt.datetime) -> RestrictionQuerySet:
        return self.filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at), starts_at__lte=at, lifted_at__isnull=True
        )

    def by_user(self, user_ids: Iterable[int], *, at: dt.datetime) -> dict[int, ActiveRestrictions]:
        """Active restrictions of many users in one query (messaging's constant-cost send)."""
        found: dict[int, tuple[set[policy.Feature], bool]] = {}
        rows = self.active(at=at).filter(user_id__in=list(user_ids))
        for user_id, kind, feature in rows.values_list("user_id", "kind", "feature"):
            features, _ = found.setdefault(user_id, (set(), False))
            if kind == "suspension":
                found[user_id] = (features, True)
            else:
                features.add(policy.Feature(feature))
        return {
            uid: ActiveRestrictions(frozenset(f), suspended)
            for uid, (f, suspended) in found.items()
        }


RestrictionManager = models.Manager.from_queryset(RestrictionQuerySet)
