"""Threads react to account changes (POLICY.md §3; issue 3 "threads react to change").

The account managers send these signals inside the transaction of the change, after its audit
entry; the locks written here join that transaction, so a change and the locks it causes commit or
roll back together. Nothing here ever unlocks: when the cause goes away, a thread stays locked until
someone unlocks it explicitly (`Thread.objects.unlock`). Blocks and ended friendships are handled
inside messaging (`Block.objects.block`, `Connection.objects.unfollow`).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.events import (
    birthdate_changed,
    restrictions_tightened,
    status_changed,
    statuses_changed,
)
from safety_portal import rules

from .models import Thread


@receiver(status_changed, dispatch_uid="messaging.lock_threads_on_status_change")
def lock_threads_when_account_is_not_active(
    sender: Any, *, user: Any, actor: object, old_status: str, new_status: str, **kwargs: Any
) -> None:
    """POLICY.md §3: a participant whose account is restricted, suspended, banned or under age
    review -> each of their threads is locked. The policy states this outright, so every thread is
    locked without asking about the others in it."""
    if new_status == rules.vocabulary.AccountStatus.ACTIVE:
        return
    reason = (
        rules.vocabulary.Reason.UNDER_MINIMUM_AGE
        if new_status == rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW
        else rules.vocabulary.Reason.ACCOUNT_RESTRICTED
    )
    Thread.objects.lock_all_for_user(
        user,
        reason=reason.value,
        source=Thread.LockSource.ACCOUNT_STATUS,
        actor=actor,
        detail=f"Account status of user {user.pk} changed from {old_status} to {new_status}.",
    )


@receiver(statuses_changed, dispatch_uid="messaging.lock_threads_on_batch_status_change")
def lock_threads_when_accounts_are_not_active(
    sender: Any, *, users: list[Any], actor: object, old_status: str, new_status: str, **kwargs: Any
) -> None:
    """The same rule as above for a batch of accounts (the minimum-age sweep): one UPDATE."""
    reason = rules.contact.status_lock_reason(new_status)
    if reason is None:
        return
    Thread.objects.lock_all_for_users(
        [u.pk for u in users],
        reason=reason.value,
        source=Thread.LockSource.ACCOUNT_STATUS,
        actor=actor,
        detail=f"Account status changed from {old_status} to {new_status} (batch).",
    )


@receiver(birthdate_changed, dispatch_uid="messaging.relock_threads_on_birthdate_change")
def lock_threads_refused_after_birthdate_change(
    sender: Any, *, user: Any, actor: object, **kwargs: Any
) -> None:
    """POLICY.md §3/§4: a birthdate corrected to a younger age -> every thread the policy would
    now refuse (an adult's DMs with a new 17-year-old who is not a friend, any thread of a new
    15-year-old, ...) is locked."""
    Thread.objects.relock_for_user(user, source=Thread.LockSource.BIRTHDATE, actor=actor)


@receiver(restrictions_tightened, dispatch_uid="messaging.relock_threads_on_tightening")
def lock_threads_refused_after_tightening(
    sender: Any, *, user: Any, actor: object, **kwargs: Any
) -> None:
    """A stricter DM setting, a guardian turning DMs off, a new moderation restriction -> every
    thread the policy would now refuse is locked (POLICY.md §3, §5)."""
    Thread.objects.relock_for_user(user, source=Thread.LockSource.RESTRICTIONS, actor=actor)
