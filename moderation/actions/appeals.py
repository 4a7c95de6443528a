"""Appeals (DSA art. 20): filing one against a decision, and deciding it by a reviewer who took no
part, reversing the decision's effects when it is overturned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from accounts.models import User
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError, NotPermitted
from safety_portal.rules.decisions import DecisionType

from .. import events
from ..managers import require_perm
from ..models import (
    Appeal,
    Decision,
    Notice,
)
from .decision_notices import when_words
from .effects import reverse_effects
from .planning import FACTS_MAX

if TYPE_CHECKING:
    from accounts.models import User


def appeal_deadline_of(decision: Decision) -> dt.datetime:
    """The last moment the decision may be appealed: the one its notice stated, or the rule's
    window from when it was notified (decided, when no notice went out)."""
    return decision.appeal_deadline or rules.decisions.appeal_deadline(
        DecisionType(decision.type), notified_at=decision.notified_at or decision.decided_at
    )


def file_appeal(
    decision: Decision,
    *,
    appellant: User,
    statement: str,
    actor: object,
    evidence_method: str = "",
    evidence_reference: str = "",
    before_audit: Callable[[Appeal], object] | None = None,
) -> Appeal:
    """Appeal a decision within its window; one appeal per decision.

    `before_audit(appeal)` runs inside the transaction once the appeal exists and before its audit
    entry (the API's idempotency record, as for report intake).

    DSA art. 20: the affected user may appeal any decision taken on them, and a reporter may
    appeal a no-violation decision, for six months after the notice. POLICY.md §4: an under-age
    decision is appealed within 180 days with age evidence (a method stronger than
    self-declaration and a reference to the evidence, never the document).
    """
    kind = DecisionType(decision.type)
    errors: dict[str, list[str]] = {}
    statement = (statement or "").strip()
    if not statement:
        errors["statement"] = ["Say why the decision should change."]
    elif len(statement) > FACTS_MAX:
        errors["statement"] = [f"At most {FACTS_MAX} characters."]
    appeal_kind = Appeal.Kind.DECISION
    if kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        appeal_kind = Appeal.Kind.UNDER_AGE
        methods = {m.value for m in rules.vocabulary.AssuranceMethod}
        if evidence_method not in methods or evidence_method == "self_declared":
            errors["evidence_method"] = [
                "Age evidence needs a method stronger than self-declaration."
            ]
        if not evidence_reference.strip() or len(evidence_reference) > 200:
            errors["evidence_reference"] = ["A reference to the evidence (at most 200 characters)."]
    if errors:
        raise DomainError("invalid", "The appeal is incomplete.", fields=errors)
    if kind is DecisionType.ESCALATE or decision.overturned_at is not None:
        raise Conflict("not_appealable", "This decision cannot be appealed.")
    if kind is DecisionType.NO_VIOLATION:
        may = decision.case.reports.filter(reporter=appellant).exists()
    else:
        may = decision.target_user_id == appellant.pk
    if not may:
        raise NotPermitted("not_permitted", "Only the person the decision concerns may appeal it.")
    now = clock.now()
    deadline = appeal_deadline_of(decision)
    if now > deadline:
        raise Conflict(
            "appeal_window_closed", f"The appeal window closed on {when_words(deadline)}."
        )
    with transaction.atomic():
        if Appeal.objects.filter(decision=decision).exists():
            raise Conflict("already_appealed", "This decision has already been appealed.")
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    decision=decision,
                    appellant=appellant,
                    kind=appeal_kind,
                    statement=statement,
                    evidence_method=evidence_method if appeal_kind == Appeal.Kind.UNDER_AGE else "",
                    evidence_reference=evidence_reference.strip()
                    if appeal_kind == Appeal.Kind.UNDER_AGE
                    else "",
                    filed_at=now,
                )
        except IntegrityError:
            raise Conflict("already_appealed", "This decision has already been appealed.") from None
        events.appeal_filed.send(sender=Appeal, appeal=appeal, actor=actor)
        if before_audit is not None:
            before_audit(appeal)
        audit.record(
            actor=actor,
            action="moderation.appeal.filed",
            target=appeal,
            after={"decision": decision.pk, "kind": appeal_kind, "appellant": appellant.pk},
        )
        Notice.objects.send(
            recipient=appellant,
            kind=Notice.Kind.APPEAL_RECEIVED,
            template="appeal_received",
            context={},
            actor=actor,
            decision=decision,
            appeal=appeal,
        )
    return appeal


def decide_appeal(appeal: Appeal, *, actor: User, overturn: bool, note: str) -> Appeal:
    """A senior moderator who did not take the decision decides the appeal (DSA art. 20(6)).

    Overturning reverses exactly the decision's recorded effects: restrictions lifted, status
    restored, messages restored, the strike removed, threads the decision locked unlocked; a
    no-violation decision overturned on a reporter's appeal sends the case back to the senior
    queue. Audited; the appellant is told.
    """
    require_perm(actor, rules.decisions.PERM_DECIDE_APPEAL, doing="decide appeals")
    note = (note or "").strip()
    if not note:
        raise DomainError("invalid", "A note is required.", fields={"note": ["required"]})
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        decision = locked.decision
        if locked.status != Appeal.Status.PENDING:
            raise Conflict("already_decided", "This appeal is already decided.")
        if actor.pk == decision.decided_by_id:
            raise NotPermitted(
                "own_decision", "An appeal is decided by someone other than the decision-maker."
            )
        if actor.pk == locked.appellant_id:
            raise NotPermitted("own_appeal", "Nobody decides their own appeal.")
        now = clock.now()
        changes: list[str] = []
        if overturn:
            changes = reverse_effects(
                decision, actor=actor, reason=f"Appeal {locked.pk} upheld: {note}"
            )
            decision.overturned_at = now
            decision.save(update_fields=["overturned_at"])
        locked.status = Appeal.Status.OVERTURNED if overturn else Appeal.Status.REJECTED
        locked.reviewer = actor
        locked.decided_at = now
        locked.reviewer_note = note
        locked.save(update_fields=["status", "reviewer", "decided_at", "reviewer_note"])
        events.appeal_decided.send(sender=Appeal, appeal=locked, actor=actor)
        audit.record(
            actor=actor,
            action="moderation.appeal.decided",
            target=locked,
            reason=note,
            before={"status": Appeal.Status.PENDING},
            after={"status": locked.status, "decision": decision.pk, "reversed": changes},
        )
        Notice.objects.send(
            recipient=locked.appellant,
            kind=Notice.Kind.APPEAL_DECIDED,
            template="appeal_decided",
            code=f"appeal_decided.{locked.status}",
            context={"overturned": overturn, "changes": _changes_sentence(changes)},
            actor=actor,
            decision=decision,
            appeal=locked,
        )
    appeal.refresh_from_db()
    return locked


_CHANGE_WORDS = {
    "restriction_lifted": "The restriction has been lifted.",
    "status_restored": "Your account has been restored.",
    "message_restored": "Your messages are visible again.",
    "strike_removed": "The strike has been removed.",
    "thread_unlocked": "The conversation is open again.",
}


def _changes_sentence(changes: list[str]) -> str:
    return " ".join(dict.fromkeys(_CHANGE_WORDS[c] for c in changes if c in _CHANGE_WORDS))
