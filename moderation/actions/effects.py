"""The effects of a decision and their ledger: applied through the owning managers, recorded with
what was there before, reversed exactly when an appeal overturns the decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from accounts.models import Restriction, User
from messaging.models import Message, Thread
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import PolicyViolation
from safety_portal.rules.decisions import DecisionType

from .. import conf
from ..models import (
    Case,
    Decision,
    DecisionEffect,
    Report,
    ReporterStanding,
    Strike,
)
from .planning import Plan

if TYPE_CHECKING:
    from accounts.models import User


def _effect(decision: Decision, kind: str, **fields: Any) -> DecisionEffect:
    return DecisionEffect.objects.create(decision=decision, kind=kind, **fields)


def _change_status(
    decision: Decision, user: User, status: str, *, actor: object, reason: str
) -> None:
    """Change the account status through the accounts manager; record it, and every thread
    messaging locks in reaction, as this decision's effects. A stricter status stays."""
    before_status = User.objects.filter(pk=user.pk).values_list("status", flat=True).get()
    if not rules.account_status.is_stricter(status, than=before_status):
        return  # a decision never loosens the status it finds (rules.account_status)
    # The decision locks the threads itself, before the status changes, and records the ids the
    # lock returns; messaging's receiver of `status_changed` then finds nothing left to lock.
    locked = Thread.objects.lock_for_account_status(
        user, old_status=before_status, new_status=status, actor=actor
    )
    User.objects.change_status(user, status, actor=actor, reason=reason)
    _effect(decision, DecisionEffect.Kind.STATUS, user=user, before=before_status, after=status)
    _record_thread_locks(decision, locked)


def _record_thread_locks(decision: Decision, thread_ids: list[int]) -> None:
    for thread_id in sorted(thread_ids):
        _effect(decision, DecisionEffect.Kind.THREAD_LOCK, object_id=thread_id, after="locked")


def apply_effects(decision: Decision, plan: Plan, *, actor: object) -> bool:
    """Make the decision real; returns whether a thread was locked (for the statement)."""
    kind, target, reason = plan.kind, plan.target, f"Decision {decision.pk}: {plan.kind.value}"
    if kind is DecisionType.REMOVE_MESSAGES:
        return _remove_messages(decision, plan, actor=actor, reason=reason)
    if kind is DecisionType.RESTRICT_FEATURE:
        restriction = Restriction.objects.impose(
            user=target,
            kind=Restriction.Kind.FEATURE,
            feature=plan.feature,
            starts_at=decision.starts_at,
            ends_at=decision.ends_at,
            reason=reason,
            decision_id=decision.pk,
            actor=actor,
        )
        _effect(decision, DecisionEffect.Kind.RESTRICTION, restriction=restriction, user=target)
        if plan.feature == rules.vocabulary.Feature.DIRECT_MESSAGES:
            # Direct, not through `restrictions_tightened`: the ids the relock returns are this
            # decision's effects, which an overturn unlocks again.
            relocked = Thread.objects.relock_for_user(
                target, source=Thread.LockSource.RESTRICTIONS, actor=actor
            )
            _record_thread_locks(decision, relocked)
    elif kind is DecisionType.SUSPEND:
        restriction = Restriction.objects.impose(
            user=target,
            kind=Restriction.Kind.SUSPENSION,
            starts_at=decision.starts_at,
            ends_at=decision.ends_at,
            reason=reason,
            decision_id=decision.pk,
            actor=actor,
        )
        _effect(decision, DecisionEffect.Kind.RESTRICTION, restriction=restriction, user=target)
        _change_status(
            decision, target, rules.vocabulary.AccountStatus.SUSPENDED, actor=actor, reason=reason
        )
    elif kind is DecisionType.TERMINATE:
        _change_status(
            decision, target, rules.vocabulary.AccountStatus.BANNED, actor=actor, reason=reason
        )
    elif kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        _change_status(
            decision,
            target,
            rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW,
            actor=actor,
            reason=reason,
        )
    return False


def _remove_messages(decision: Decision, plan: Plan, *, actor: object, reason: str) -> bool:
    for message in plan.messages:
        before = message.moderation_state
        if before == Message.State.REMOVED:
            continue
        Message.objects.set_moderation_state(
            message, Message.State.REMOVED, actor=actor, reason=reason
        )
        _effect(
            decision,
            DecisionEffect.Kind.MESSAGE_STATE,
            object_id=message.pk,
            before=before,
            after=Message.State.REMOVED,
        )
    if not plan.lock_thread:
        return False
    locked_any = False
    for thread_id in sorted({m.thread_id for m in plan.messages}):
        thread = Thread.objects.get(pk=thread_id)
        if thread.locked:
            continue
        Thread.objects.lock(
            thread,
            reason="moderation_decision",
            actor=actor,
            source=Thread.LockSource.MODERATION,
            detail=f"decision {decision.pk}",
        )
        _effect(decision, DecisionEffect.Kind.THREAD_LOCK, object_id=thread_id, after="locked")
        locked_any = True
    return locked_any


def add_strike(decision: Decision, plan: Plan, *, actor: object) -> str | None:
    """Upheld violations add a strike; crossing the threshold proposes, never applies (issue 4)."""
    if plan.kind not in rules.decisions.STRIKING or plan.target is None:
        return None
    strike = Strike.objects.add(user=plan.target, decision=decision, actor=actor)
    _effect(decision, DecisionEffect.Kind.STRIKE, strike=strike, user=plan.target)
    active = Strike.objects.count_active(plan.target, at=strike.created_at)
    proposal = rules.decisions.strike_proposal(active, threshold=conf.strike_threshold())
    decision.strikes_after = active
    decision.escalation_proposed = proposal.value if proposal else ""
    decision.save(update_fields=["strikes_after", "escalation_proposed"])
    return decision.escalation_proposed or None


_REVERSAL_ORDER = [
    DecisionEffect.Kind.RESTRICTION,
    DecisionEffect.Kind.STATUS,
    DecisionEffect.Kind.MESSAGE_STATE,
    DecisionEffect.Kind.THREAD_LOCK,
    DecisionEffect.Kind.STRIKE,
]


def reverse_effects(decision: Decision, *, actor: User, reason: str) -> list[str]:
    """Undo a decision's recorded effects, each through the owning manager (order below)."""
    done: list[str] = []
    now = clock.now()
    pending = list(decision.effects.filter(reversed_at__isnull=True).select_related("user"))
    # The account first (restriction, status), then content, then threads — messaging unlocks a
    # thread only once the policy allows it again — and the strike last.
    pending.sort(key=lambda e: (_REVERSAL_ORDER.index(e.kind), e.pk))
    for effect in pending:
        kind = effect.kind
        if kind == DecisionEffect.Kind.RESTRICTION:
            Restriction.objects.lift(effect.restriction, actor=actor, reason=reason)
            done.append("restriction_lifted")
        elif kind == DecisionEffect.Kind.STATUS:
            current = User.objects.filter(pk=effect.user_id).values_list("status", flat=True).get()
            if current == effect.after:  # nobody changed it since; otherwise leave it to staff
                User.objects.change_status(effect.user, effect.before, actor=actor, reason=reason)
                done.append("status_restored")
        elif kind == DecisionEffect.Kind.MESSAGE_STATE:
            message = Message.objects.get(pk=effect.object_id)
            if message.moderation_state == effect.after:
                Message.objects.set_moderation_state(
                    message, effect.before, actor=actor, reason=reason
                )
                done.append("message_restored")
        elif kind == DecisionEffect.Kind.THREAD_LOCK:
            thread = Thread.objects.get(pk=effect.object_id)
            if thread.locked:
                try:
                    with transaction.atomic():
                        Thread.objects.unlock(thread, actor=actor, reason=reason)
                    done.append("thread_unlocked")
                except PolicyViolation as refusal:
                    # Another cause still refuses the thread (POLICY.md §3): it stays locked, and
                    # the appeal's audit entry says so.
                    done.append(f"thread_kept_locked:{effect.object_id}:{refusal.code}")
        elif kind == DecisionEffect.Kind.STRIKE:
            Strike.objects.remove(effect.strike, actor=actor, reason=reason)
            done.append("strike_removed")
        effect.reversed_at = now
        effect.save(update_fields=["reversed_at"])
    if decision.type == DecisionType.NO_VIOLATION:
        _reopen(decision, actor=actor, reason=reason)
        ids = list(
            decision.case.reports.filter(reporter_kind="user", outcome=Report.Outcome.REJECTED)
            .order_by("pk")
            .values_list("reporter_id", flat=True)
        )
        ReporterStanding.objects.record_outcomes(ids, upheld=False, actor=actor, undo=True)
        decision.case.reports.filter(outcome=Report.Outcome.REJECTED).update(
            outcome=Report.Outcome.PENDING
        )
        done.append("case_reopened")
    return done


def _reopen(decision: Decision, *, actor: User, reason: str) -> None:
    """A no-violation decision overturned: the case goes back, to the senior queue."""
    case = Case.objects.select_for_update().get(pk=decision.case_id)
    other = Case.objects.open().filter(subject_key=case.subject_key).exclude(pk=case.pk).first()
    if other is not None:
        # A newer case on the same subject is open: send that one to the seniors instead.
        if other.status == "open":
            other.status, other.escalated_at = "escalated", clock.now()
            other.save(update_fields=["status", "escalated_at"])
        audit.record(
            actor=actor,
            action="moderation.case.escalated",
            target=other,
            reason=reason,
            after={"status": other.status, "reopened_from": case.pk},
        )
        return
    case.status, case.decided_at, case.escalated_at = "escalated", None, clock.now()
    case.save(update_fields=["status", "decided_at", "escalated_at"])
    audit.record(
        actor=actor, action="moderation.case.reopened", target=case, reason=reason,
        after={"status": "escalated"},
    )  # fmt: skip
