"""Follows: who follows whom, and the two doors that change it (POLICY.md §3 "friends")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.db.models import Q

from accounts.models import User
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError, PolicyViolation

from ..guards import GuardedQuerySet
from ..registry import block_model, thread_model
from ._common import acting_for, fresh_app_users, pk_of, require_app_user

if TYPE_CHECKING:
    from ..models import Connection


class ConnectionQuerySet(GuardedQuerySet):
    def between(self, a: User | int, b: User | int) -> ConnectionQuerySet:
        """Follows either way between two people."""
        return self.filter(Q(follower=a, followee=b) | Q(follower=b, followee=a))

    def of(self, user: User | int) -> ConnectionQuerySet:
        return self.filter(Q(follower=user) | Q(followee=user))


class ConnectionManager(models.Manager.from_queryset(ConnectionQuerySet)):  # type: ignore[misc]
    """Follows. Friends are people who follow each other (POLICY.md §3)."""

    def are_friends(self, a: User | int, b: User | int) -> bool:
        """Mutual follow, in one query."""
        if pk_of(a, "a") == pk_of(b, "b"):
            return False
        return self.between(a, b).count() == 2

    def follow(self, *, follower: User, followee: User, actor: object) -> Connection:
        """`follower` follows `followee` (idempotent). Refused across a block (POLICY.md §3:
        a block ends all contact both ways)."""
        acting_for(actor, follower, what="follow someone")
        ids = pk_of(follower, "follower"), pk_of(followee, "followee")
        users = fresh_app_users(ids)
        follower = require_app_user(users.get(ids[0]), "follower")
        followee = require_app_user(users.get(ids[1]), "followee")
        if follower.pk == followee.pk:
            raise DomainError(
                "invalid", "Nobody follows themselves.", fields={"followee": ["yourself"]}
            )
        with transaction.atomic():
            existing = self.filter(follower=follower, followee=followee).first()
            if existing is not None:
                return existing  # nothing changes, so a block since then changes nothing either
            if block_model().objects.between(follower, followee).exists():
                raise PolicyViolation(rules.vocabulary.Reason.DM_BLOCKED)
            row = self.model(follower=follower, followee=followee, created_at=clock.now())
            try:
                with transaction.atomic():
                    row.save(_door=True, force_insert=True)
            except IntegrityError:
                # A concurrent follow of the same pair won the race: that row is the answer.
                return self.get(follower=follower, followee=followee)
            mutual = self.filter(follower=followee, followee=follower).exists()
            audit.record(
                actor=actor,
                action="messaging.connection.followed",
                target=row,
                after={"follower": follower.pk, "followee": followee.pk, "friends": mutual},
            )
        return row

    def unfollow(self, *, follower: User, followee: User, actor: object) -> bool:
        """Stop following. When that ends a friendship, every thread the two share that the policy
        would now refuse is locked (POLICY.md §3; issue 3 "a friendship ends"). False if there was
        nothing to undo."""
        acting_for(actor, follower, what="unfollow someone")
        with transaction.atomic():
            row = (
                self.select_for_update()
                .filter(follower=pk_of(follower, "follower"), followee=pk_of(followee, "followee"))
                .first()
            )
            if row is None:
                return False
            were_friends = self.filter(follower=row.followee_id, followee=row.follower_id).exists()
            audit.record(
                actor=actor,
                action="messaging.connection.unfollowed",
                target=row,
                before={
                    "follower": row.follower_id,
                    "followee": row.followee_id,
                    "friends": were_friends,
                },
            )
            row.delete(_door=True)
            if were_friends:
                Thread = thread_model()
                Thread.objects.relock_shared(
                    [row.follower_id, row.followee_id],
                    source=Thread.LockSource.UNFOLLOW,
                    actor=actor,
                )
        return True
