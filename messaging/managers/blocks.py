"""Blocks: no contact either way (POLICY.md §3), and the two doors that change them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.db.models import Q

from accounts.models import User
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError

from ..guards import GuardedQuerySet
from ..registry import thread_model
from ._common import acting_for, fresh_app_users, pk_of, require_app_user

if TYPE_CHECKING:
    from ..models import Block


class BlockQuerySet(GuardedQuerySet):
    def between(self, a: User | int, b: User | int) -> BlockQuerySet:
        """Blocks either way between two people."""
        return self.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a))

    def involving(self, user: User | int) -> BlockQuerySet:
        return self.filter(Q(blocker=user) | Q(blocked=user))


class BlockManager(models.Manager.from_queryset(BlockQuerySet)):  # type: ignore[misc]
    """Blocks: no contact either way (POLICY.md §3)."""

    def is_blocked(self, a: User | int, b: User | int) -> bool:
        return self.between(a, b).exists()

    def block(self, *, blocker: User, blocked: User, actor: object) -> Block:
        """Block someone (idempotent); every thread the two share is locked at once (§3)."""
        acting_for(actor, blocker, what="block someone")
        ids = pk_of(blocker, "blocker"), pk_of(blocked, "blocked")
        users = fresh_app_users(ids)
        blocker = require_app_user(users.get(ids[0]), "blocker")
        blocked = require_app_user(users.get(ids[1]), "blocked")
        if blocker.pk == blocked.pk:
            raise DomainError(
                "invalid", "Nobody blocks themselves.", fields={"blocked": ["yourself"]}
            )
        with transaction.atomic():
            existing = self.filter(blocker=blocker, blocked=blocked).first()
            if existing is not None:
                return existing
            row = self.model(blocker=blocker, blocked=blocked, created_at=clock.now())
            try:
                with transaction.atomic():
                    row.save(_door=True, force_insert=True)
            except IntegrityError:
                return self.get(blocker=blocker, blocked=blocked)
            audit.record(
                actor=actor,
                action="messaging.block.created",
                target=row,
                after={"blocker": blocker.pk, "blocked": blocked.pk},
            )
            Thread = thread_model()
            Thread.objects.relock_shared(
                [blocker.pk, blocked.pk], source=Thread.LockSource.BLOCK, actor=actor
            )
        return row

    def unblock(self, *, blocker: User, blocked: User, actor: object) -> bool:
        """Lift a block. Threads it locked stay locked: unlocking is explicit (issue 3)."""
        acting_for(actor, blocker, what="unblock someone")
        with transaction.atomic():
            row = (
                self.select_for_update()
                .filter(blocker=pk_of(blocker, "blocker"), blocked=pk_of(blocked, "blocked"))
                .first()
            )
            if row is None:
                return False
            audit.record(
                actor=actor,
                action="messaging.block.removed",
                target=row,
                before={"blocker": row.blocker_id, "blocked": row.blocked_id},
            )
            row.delete(_door=True)
        return True
