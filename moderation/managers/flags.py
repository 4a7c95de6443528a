"""Flags: signals about an account (an age signal, a risk pattern) that staff review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError

from ._common import require_perm

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import (
        Case,
        Flag,
    )


class FlagQuerySet(models.QuerySet):
    def open(self) -> FlagQuerySet:
        return self.filter(status="open")

    def of_kind(self, kind: str) -> FlagQuerySet:
        return self.filter(kind=kind)


class FlagManager(models.Manager.from_queryset(FlagQuerySet)):  # type: ignore[misc]
    def raise_signal(
        self,
        *,
        user_id: int,
        kind: str,
        signal: Mapping[str, Any],
        actor: object,
        case: Case | None = None,
    ) -> Flag:
        """Add a signal to the user's open flag of this kind, raising the flag when there is none.

        POLICY.md §4: a flag is for staff review and never changes the age or the account on its
        own. Repeated signals gather on one open flag instead of piling up new ones.
        """
        now = clock.now()
        entry = {"at": now.isoformat(), **signal}
        with transaction.atomic():
            flag = (
                self.select_for_update().filter(user_id=user_id, kind=kind, status="open").first()
            )
            raised = flag is None
            if flag is None:
                try:
                    with transaction.atomic():
                        flag = self.create(
                            user_id=user_id,
                            kind=kind,
                            raised_at=now,
                            last_signal_at=now,
                            case=case,
                        )
                except IntegrityError:
                    raised = False
                    flag = self.select_for_update().get(user_id=user_id, kind=kind, status="open")
            flag.signals = [*flag.signals, entry]
            flag.signal_count += 1
            flag.last_signal_at = now
            if flag.case_id is None and case is not None:
                flag.case = case
            flag.save(update_fields=["signals", "signal_count", "last_signal_at", "case"])
            audit.record(
                actor=actor,
                action="moderation.flag." + ("raised" if raised else "signal_added"),
                target=flag,
                after={"kind": kind, "signals": flag.signal_count, "signal": dict(signal)},
            )
        return flag

    def confirm(self, flag: Flag, *, actor: User, note: str, case: Case) -> Flag:
        """Staff agree the flag needs a decision; `case` is where it goes (services.confirm_flag
        opens or finds it)."""
        return self._review(flag, actor=actor, note=note, status="confirmed", case=case)

    def dismiss(self, flag: Flag, *, actor: User, note: str) -> Flag:
        """Staff found nothing to act on; audited with the note."""
        return self._review(flag, actor=actor, note=note, status="dismissed", case=None)

    def _review(
        self, flag: Flag, *, actor: User, note: str, status: str, case: Case | None
    ) -> Flag:
        require_perm(actor, rules.decisions.PERM_REVIEW_FLAG, doing="review flags")
        if not note.strip():
            raise DomainError("invalid", "A note is required.", fields={"note": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=flag.pk)
            if locked.status != "open":
                raise Conflict("already_reviewed", f"This flag is already {locked.status}.")
            locked.status = status
            locked.reviewed_by = actor
            locked.reviewed_at = clock.now()
            locked.review_note = note
            if case is not None:
                locked.case = case
            locked.save(
                update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "case"]
            )
            audit.record(
                actor=actor,
                action=f"moderation.flag.{status}",
                target=locked,
                reason=note,
                after={"case": locked.case_id},
            )
        return locked
