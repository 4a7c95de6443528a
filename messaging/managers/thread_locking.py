"""Locking and unlocking threads (POLICY.md §3: "a thread ... is locked: its messages are kept,
nobody can post").

Three kinds of lock, all written by `_lock_row` (one conditional UPDATE, one audit entry when it
changed something, so a thread already locked keeps its first lock and nothing is audited twice):

- a stated cause, without asking the policy: `lock` (staff, a moderation decision) and
  `lock_all_for_user` / `lock_for_account_status` (a participant's account is no longer active);
- the policy's verdict on the thread as it now is: `relock` and its two scopes, after an account
  change, a block or an ended friendship;
- a send or an add that finds the thread refused (`_lock_by_policy`, by `SEND_CHECK_ACTOR`).

Unlocking is the explicit action of issue 3: nothing here reopens a thread by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from accounts.models import User
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError, PolicyViolation
from safety_portal.core.lookups import AnyOf

from .. import contact
from ..limits import MAX_LOCK_DETAIL_LENGTH, MAX_LOCK_REASON_LENGTH
from ..registry import participant_model, refused_attempt_model, thread_model
from ._common import SEND_CHECK_ACTOR, now_and_today, pk_of, sanction
from .thread_queries import ThreadManagerBase

if TYPE_CHECKING:
    from ..models import Thread


class ThreadLocking(ThreadManagerBase):  # type: ignore[misc,valid-type]
    """The lock and unlock doors of `Thread.objects` (see the module docstring)."""

    def lock(
        self,
        thread: Thread | int,
        *,
        reason: str,
        actor: object,
        source: str,
        detail: str = "",
    ) -> Thread:
        """Lock a thread: messages kept, nobody can post or join (POLICY.md §3). Idempotent: a
        locked thread keeps its first lock's reason. `reason` is a short code (a policy `Reason`
        value, or a staff code such as "harassment"); `source` is a `Thread.LockSource`."""
        identify(actor)
        reason = (reason or "").strip()
        sources = thread_model().LockSource.values
        errors: dict[str, list[str]] = {}
        if not reason or len(reason) > MAX_LOCK_REASON_LENGTH:
            errors["reason"] = [
                f"A reason code of 1 to {MAX_LOCK_REASON_LENGTH} characters is required."
            ]
        if source not in sources:
            errors["source"] = [f"One of: {', '.join(sources)}."]
        if len(detail) > MAX_LOCK_DETAIL_LENGTH:
            errors["detail"] = [f"At most {MAX_LOCK_DETAIL_LENGTH} characters."]
        if errors:
            raise DomainError("invalid", "The lock is not valid.", fields=errors)
        thread_id = pk_of(thread, "thread")
        with transaction.atomic():
            self._lock_row(thread_id, reason=reason, source=source, actor=actor, detail=detail)
            return self.get(pk=thread_id)

    def unlock(self, thread: Thread | int, *, actor: object, reason: str) -> Thread:
        """Reopen a locked thread: the explicit action of issue 3 (threads never reopen by
        themselves). Refused with the policy's code while the thread would still be refused."""
        identify(actor)
        if not (reason or "").strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        thread_id = pk_of(thread, "thread")
        now, today = now_and_today()
        with transaction.atomic():
            row = self.select_for_update().filter(pk=thread_id).first()
            if row is None:
                raise DomainError("invalid", "Unknown thread.", fields={"thread": ["unknown"]})
            if not row.locked:
                raise Conflict("not_locked", "This thread is not locked.")
            loaded = contact.load_threads([thread_id], at=now, on=today)[thread_id]
            refusal = contact.thread_refusal(loaded.view)
            if refusal is not None:
                raise PolicyViolation(
                    refusal.reason,
                    f"The thread cannot be unlocked: the policy still refuses it ({refusal.reason}).",
                )
            before = {
                "locked_reason": row.locked_reason,
                "locked_source": row.locked_source,
                "locked_at": row.locked_at,
            }
            sanction("safety_portal.thread_unlock", thread_id)
            self.filter(pk=thread_id)._door_update(
                locked=False, locked_reason="", locked_source="", locked_detail="", locked_at=None
            )
            audit.record(
                actor=actor,
                action="messaging.thread.unlocked",
                target=row,
                reason=reason,
                before=before,
                after={"locked": False},
            )
            return self.get(pk=thread_id)

    def relock(self, thread_ids: Iterable[int], *, source: str, actor: object) -> list[int]:
        """Lock every unlocked thread among `thread_ids` that the policy would now refuse.

        The reaction of issue 3 to account changes, blocks and ended friendships: four queries to
        judge all of them, then one conditional update and one audit entry per thread locked.
        Returns the ids this call locked, ascending. Must run inside the transaction of the change
        that caused it.
        """
        ids = list(self.filter(pk__in=list(thread_ids), locked=False).values_list("pk", flat=True))
        if not ids:
            return []
        now, today = now_and_today()
        locked: list[int] = []
        for thread_id, loaded in contact.load_threads(ids, at=now, on=today).items():
            refusal = contact.thread_refusal(loaded.view)
            if refusal is None:
                continue
            about = f" (user {refusal.user_id})" if refusal.user_id is not None else ""
            if self._lock_row(
                thread_id,
                reason=refusal.reason,
                source=source,
                actor=actor,
                detail=f"Now refused by the policy: {refusal.reason}{about}.",
            ):
                locked.append(thread_id)
        return sorted(locked)

    def relock_for_user(self, user: User | int, *, source: str, actor: object) -> list[int]:
        """`relock` over every unlocked thread the person is in; the ids it locked, ascending."""
        return self.relock(
            self.for_user(user).unlocked().values_list("pk", flat=True), source=source, actor=actor
        )

    def relock_shared(
        self, users: Sequence[User | int], *, source: str, actor: object
    ) -> list[int]:
        """`relock` over the unlocked threads two people share; the ids it locked, ascending."""
        a, b = users
        return self.relock(
            self.shared_by(a, b).unlocked().values_list("pk", flat=True), source=source, actor=actor
        )

    def lock_all_for_user(
        self, user: User | int, *, reason: str, source: str, actor: object, detail: str = ""
    ) -> list[int]:
        """Lock every unlocked thread the person is in, without asking the policy: for a cause the
        policy states outright (POLICY.md §3: a participant's account restricted -> locked).

        Returns the ids of the threads this call locked, ascending. A thread already locked (by an
        earlier cause, or by a concurrent lock that won the conditional update) is left as it is and
        is not in the list, so a second call for the same cause returns `[]`. A caller that records
        what it caused (a moderation decision's effects) records exactly this list. Must run inside
        the transaction of the change that caused it (the audit entries join it).
        """
        ids = list(self.for_user(user).unlocked().values_list("pk", flat=True))
        locked = [
            tid
            for tid in ids
            if self._lock_row(tid, reason=reason, source=source, actor=actor, detail=detail)
        ]
        return sorted(locked)

    def lock_all_for_users(
        self, user_ids: list[int], *, reason: str, source: str, actor: object, detail: str
    ) -> list[int]:
        """`lock_all_for_user` for a batch of people at once: one UPDATE and one batch of audit
        entries (one per thread) instead of a round trip per thread, for batched status changes
        (the minimum-age sweep). Returns the ids this call locked, ascending."""
        if not user_ids:
            return []
        participants = participant_model().objects.filter(AnyOf(F("user_id"), user_ids))
        ids = sorted(
            self.unlocked()
            .filter(pk__in=participants.values("thread_id"))
            .order_by()
            .values_list("pk", flat=True)
        )
        if not ids:
            return []
        self.filter(pk__in=ids, locked=False)._door_update(
            locked=True,
            locked_reason=reason,
            locked_source=source,
            locked_detail=detail[:MAX_LOCK_DETAIL_LENGTH],
            locked_at=clock.now(),
        )
        audit.record_many(
            actor=actor,
            action="messaging.thread.locked",
            entries=[
                audit.Pending(
                    target_type="messaging.thread",
                    target_id=str(tid),
                    target_label=f"Thread {tid}",
                    reason=detail,
                    after={"locked_reason": reason, "locked_source": source},
                )
                for tid in ids
            ],
        )
        return ids

    def lock_for_account_status(
        self, user: User, *, old_status: str, new_status: str, actor: object
    ) -> list[int]:
        """Lock the person's threads because their account moved from `old_status` to `new_status`.

        POLICY.md §3, through `rules.contact.status_lock_reason`: any status but active locks each
        of their threads, whoever else is in it; back to active locks nothing (and unlocks
        nothing). This is what the `status_changed` receiver does (`receivers.py`); it returns the
        ids this call locked, ascending, as `lock_all_for_user` does.
        """
        reason = rules.contact.status_lock_reason(new_status)
        if reason is None:
            return []
        return self.lock_all_for_user(
            user,
            reason=reason.value,
            source=thread_model().LockSource.ACCOUNT_STATUS,
            actor=actor,
            detail=f"Account status of user {user.pk} changed from {old_status} to {new_status}.",
        )

    def _lock_row(
        self, thread_id: int, *, reason: str, source: str, actor: object, detail: str = ""
    ) -> bool:
        """Lock one thread if it is not locked yet (conditional update), audited. In a transaction."""
        changed = self.filter(pk=thread_id, locked=False)._door_update(
            locked=True,
            locked_reason=reason,
            locked_source=source,
            locked_detail=detail[:MAX_LOCK_DETAIL_LENGTH],
            locked_at=clock.now(),
        )
        if changed:
            audit.record(
                actor=actor,
                action="messaging.thread.locked",
                target_type="messaging.thread",
                target_id=str(thread_id),
                target_label=f"Thread {thread_id}",
                reason=detail or reason,
                after={"locked_reason": reason, "locked_source": source},
            )
        return bool(changed)

    def _record_refusal(
        self, outcome: contact.Outcome, *, thread: Thread, sender_id: int, action: str, via: str
    ) -> None:
        """A refused send or add: its `RefusedContactAttempt` row, and the lock when the thread as
        a whole is now refused (`outcome.lock`), in one transaction (POLICY.md §3; issue 4)."""
        with transaction.atomic():
            refused_attempt_model().objects.record(
                sender_id=sender_id,
                recipient_id=outcome.about,
                thread=thread,
                action=action,
                reason=outcome.reason,
                sent_via=via,
            )
            if outcome.lock is not None:
                self._lock_by_policy(thread.pk, outcome.lock)

    def _lock_by_policy(self, thread_id: int, refusal: contact.Refusal) -> bool:
        """Lock a thread a send or an add found refused by the policy (POLICY.md §3)."""
        about = f" (user {refusal.user_id})" if refusal.user_id is not None else ""
        return self._lock_row(
            thread_id,
            reason=refusal.reason,
            source=thread_model().LockSource.SEND_CHECK,
            actor=SEND_CHECK_ACTOR,
            detail=f"The policy refused the thread when someone posted: {refusal.reason}{about}.",
        )
