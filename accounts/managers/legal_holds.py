"""Legal holds on an account's data (issue 12.6): placed by moderation when a child-exploitation
decision or flag needs the evidence kept for the competent authority, released by staff with the
dedicated permission. Both audited in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction

from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError, NotPermitted

if TYPE_CHECKING:
    from ..models import LegalHold, User

PERM_RELEASE = "accounts.release_legalhold"


class LegalHoldQuerySet(models.QuerySet):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHoldManager(models.Manager.from_queryset(LegalHoldQuerySet)):  # type: ignore[misc]
    def is_held(self, user_id: int) -> bool:
        return self.active().filter(user_id=user_id).exists()

    def place(self, user: User, *, case_id: int, reason: str, actor: object) -> LegalHold:
        """Hold `user`'s data for case `case_id`; the active hold if there is one already."""
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            existing = self.active().filter(user=user, case_id=case_id).first()
            if existing is not None:
                return existing
            try:
                with transaction.atomic():
                    hold = self.create(
                        user=user,
                        case_id=case_id,
                        reason=reason,
                        placed_at=clock.now(),
                        placed_by_label=identify(actor).label[:150],
                    )
            except IntegrityError:  # a concurrent twin placed it first
                return self.active().get(user=user, case_id=case_id)
            audit.record(
                actor=actor,
                action="accounts.legal_hold.placed",
                target=user,
                reason=reason,
                after={"hold": hold.pk, "case": case_id},
            )
        return hold

    def release(self, hold: LegalHold, *, actor: User, reason: str) -> LegalHold:
        """End a hold, with a reason (the authority no longer needs the evidence)."""
        if not (actor.is_active and actor.is_staff and actor.has_perm(PERM_RELEASE)):
            raise NotPermitted("not_permitted", "Only the child-safety team releases legal holds.")
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=hold.pk)
            if locked.released_at is not None:
                raise Conflict("already_released", "This hold was already released.")
            locked.released_at = clock.now()
            locked.released_by = actor
            locked.release_reason = reason
            locked.save(update_fields=["released_at", "released_by", "release_reason"])
            audit.record(
                actor=actor,
                action="accounts.legal_hold.released",
                target=locked.user,
                reason=reason,
                before={"hold": locked.pk, "case": locked.case_id, "active": True},
                after={"hold": locked.pk, "case": locked.case_id, "active": False},
            )
        return locked
