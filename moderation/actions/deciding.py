"""Deciding a case (POLICY.md §6; DSA art. 17): the checks under the case's lock, the decision row,
then its effects, strike, statement and notices in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import User
from safety_portal import rules
from safety_portal.core import audit, clock, metrics
from safety_portal.core.errors import DomainError
from safety_portal.rules.casework import Action
from safety_portal.rules.decisions import DecisionType

from .. import events, statements
from ..managers import require_perm
from ..managers._common import refuse_unless_allowed
from ..models import (
    Case,
    Decision,
    Report,
    ReporterStanding,
)
from .child_safety import hold_and_escalate
from .decision_notices import notify_decision
from .effects import add_strike, apply_effects
from .planning import make_plan, plan_ends_at

if TYPE_CHECKING:
    from accounts.models import User


def decide(
    case: Case,
    *,
    actor: User,
    decision_type: str,
    facts: str,
    ground: str = "",
    explanation: str = "",
    days: int | None = None,
    feature: str = "",
    message_ids: Sequence[int] = (),
    target_user: User | None = None,
    lock_thread: bool = False,
    category: str | None = None,
    keywords: Sequence[str] | None = None,
    via: object | None = None,
) -> Decision:
    """Take a decision on a case the moderator holds, with every effect in one transaction.

    Issue 4 / POLICY.md §6: only the claimer (or a senior who took the case over) decides; the
    decision records ground, facts, moderator and case; its effects go through the owning
    managers (a restriction, `User.objects.change_status`, `Message.objects.set_moderation_state`,
    `Thread.objects.lock`) and are written to the effect ledger an appeal reverses; an upheld
    violation adds a strike (crossing the threshold only proposes escalation); a restricting
    decision stores its statement of reasons (art. 17); the user and the reporters are told.
    Moderators decide up to 30 days; longer, termination and under-age decisions need seniors.

    `via` is the API client the moderator acted through (issue 6): the audit entries then name
    the client as the actor and the moderator in the decision's own entry; the permission and
    claim checks are always the moderator's.
    """
    audit_actor = via if via is not None else actor
    try:
        kind = DecisionType(decision_type)
    except ValueError:
        raise DomainError(
            "invalid", "Unknown decision type.", fields={"decision_type": ["unknown"]}
        ) from None
    require_perm(
        actor, *rules.decisions.permissions_for(kind, days=days), doing=f"decide {kind.value}"
    )
    if kind is DecisionType.ESCALATE:
        return _escalate(case, actor=actor, facts=facts, audit_actor=audit_actor)
    plan = make_plan(
        case,
        kind=kind,
        facts=facts,
        ground=ground,
        explanation=explanation,
        days=days,
        feature=feature,
        message_ids=message_ids,
        target_user=target_user,
        lock_thread=lock_thread,
        category=category,
        keywords=keywords,
    )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        now = clock.now()
        refuse_unless_allowed(locked, Action.DECIDE, actor=actor, at=now)
        decision = Decision.objects.create(
            case=locked,
            type=kind.value,
            target_user=plan.target,
            decided_by=actor,
            ground=plan.ground,
            category=plan.category,
            keywords=plan.keywords,
            explanation=plan.explanation,
            facts=plan.facts,
            feature=plan.feature,
            starts_at=now,
            ends_at=plan_ends_at(plan, now),
            decided_at=now,
        )
        thread_locked = apply_effects(decision, plan, actor=audit_actor)
        proposal = add_strike(decision, plan, actor=audit_actor)
        reporter_ids = _settle_reports(locked, upheld=kind is not DecisionType.NO_VIOLATION)
        ReporterStanding.objects.record_outcomes(
            reporter_ids, upheld=kind is not DecisionType.NO_VIOLATION, actor=audit_actor
        )
        locked.status = "decided"
        locked.decided_at = now
        locked.claimed_by, locked.claimed_at, locked.claim_expires_at = None, None, None
        locked.save(
            update_fields=["status", "decided_at", "claimed_by", "claimed_at", "claim_expires_at"]
        )
        statement = None
        if kind in rules.decisions.RESTRICTING:
            statement = statements.create_for(
                decision, actor=audit_actor, thread_locked=thread_locked
            )
        notify_decision(decision, plan, reporter_ids=reporter_ids, actor=audit_actor, at=now)
        events.decision_taken.send(sender=Decision, decision=decision, actor=audit_actor)
        transaction.on_commit(lambda: metrics.count("decisions", decision_type=kind.value))
        if rules.child_safety.decision_holds_evidence(kind.value, plan.keywords):
            hold_and_escalate(
                locked, actor=audit_actor, trigger=f"Decision {decision.pk} ({kind.value})",
                decision=decision,
            )  # fmt: skip
        audit.record(
            actor=audit_actor,
            action="moderation.decision.taken",
            target=decision,
            reason=plan.facts[:500],
            before={"case_status": case.status},
            after={
                "type": kind.value,
                "moderator": actor.pk,
                "case": locked.pk,
                "target": plan.target.pk if plan.target else None,
                "ground": plan.ground,
                "category": plan.category,
                "feature": plan.feature,
                "ends_at": decision.ends_at,
                "messages": [m.pk for m in plan.messages],
                "thread_locked": thread_locked,
                "strikes_after": decision.strikes_after,
                "escalation_proposed": proposal,
                "statement": statement.puid if statement else None,
            },
        )
    case.refresh_from_db()
    return decision


def _escalate(case: Case, *, actor: User, facts: str, audit_actor: object) -> Decision:
    facts = (facts or "").strip()
    if not facts:
        raise DomainError(
            "invalid", "Say why the case needs a senior moderator.", fields={"facts": ["required"]}
        )
    with transaction.atomic():
        locked = Case.objects.escalate(case, actor=actor, reason=facts)
        now = clock.now()
        decision = Decision.objects.create(
            case=locked,
            type=DecisionType.ESCALATE.value,
            target_user=locked.subject_user,
            decided_by=actor,
            category=locked.category,
            keywords=locked.keywords,
            facts=facts,
            starts_at=now,
            decided_at=now,
        )
        events.decision_taken.send(sender=Decision, decision=decision, actor=audit_actor)
        if rules.child_safety.decision_holds_evidence(DecisionType.ESCALATE, locked.keywords):
            hold_and_escalate(
                locked, actor=audit_actor, trigger=f"Escalated to seniors (decision {decision.pk})",
                decision=decision,
            )  # fmt: skip
    case.refresh_from_db()
    return decision


def _settle_reports(case: Case, *, upheld: bool) -> list[int]:
    """Close the case's pending reports with the outcome; returns the user reporters' ids (one
    per report, for their art. 23 standing)."""
    pending = case.reports.filter(outcome=Report.Outcome.PENDING)
    reporter_ids = list(
        pending.filter(reporter_kind="user").order_by("pk").values_list("reporter_id", flat=True)
    )
    pending.update(outcome=Report.Outcome.UPHELD if upheld else Report.Outcome.REJECTED)
    return reporter_ids
