"""Child sexual exploitation (issue 12.6): evidence on legal hold, an escalation for the team that
reports to the competent authority, and the report package they send.

`hold_and_escalate` runs inside the transaction of the decision or flag confirmation that calls
it (`rules.child_safety` says when): the case's subject is held (`accounts.LegalHold`: no erasure,
including the under-age closure, touches the account while held) and one escalation per case is
opened. The package is what the authority needs to act, and what the portal holds: the case, its
reports (kind, source, time, category; reporters by pseudonymous id), the decisions with their
facts, the subject account's identifiers, and the reported messages. Exporting it is audited.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import LegalHold, User
from messaging.models import Message
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError

from ..managers import require_perm
from ..models import Case, ChildSafetyEscalation, Decision, Flag

PERM_VIEW = "moderation.view_childsafetyescalation"
PERM_REPORT = "moderation.report_child_safety"
REFERENCE_MAX = 100


def hold_and_escalate(
    case: Case,
    *,
    actor: object,
    trigger: str,
    decision: Decision | None = None,
    flag: Flag | None = None,
) -> ChildSafetyEscalation:
    """Hold the case's subject and open (or return) the case's escalation; audited."""
    if case.subject_user_id is not None:
        LegalHold.objects.place(
            User.objects.get(pk=case.subject_user_id),
            case_id=case.pk,
            reason=f"Child-safety case {case.pk}: {trigger}",
            actor=actor,
        )
    open_one = ChildSafetyEscalation.objects.filter(case=case, status="open").first()
    if open_one is not None:
        return open_one
    try:
        with transaction.atomic():
            escalation = ChildSafetyEscalation.objects.create(
                case=case, decision=decision, flag=flag, trigger=trigger, opened_at=clock.now()
            )
    except IntegrityError:  # a concurrent decision on the same case opened it
        return ChildSafetyEscalation.objects.get(case=case, status="open")
    audit.record(
        actor=actor,
        action="moderation.child_safety.escalated",
        target=escalation,
        reason=trigger,
        after={
            "case": case.pk,
            "decision": decision.pk if decision else None,
            "flag": flag.pk if flag else None,
        },
    )
    return escalation


def report_package(escalation: ChildSafetyEscalation, *, actor: User) -> dict[str, Any]:
    """The package for the authority, as JSON-ready data with its SHA-256; audited."""
    require_perm(actor, PERM_REPORT, doing="export child-safety report packages")
    case = escalation.case
    subject = case.subject_user
    reports = list(case.reports.order_by("created_at", "id"))
    message_ids = {r.subject_message_id for r in reports if r.subject_message_id}
    messages = Message.objects.filter(pk__in=message_ids).order_by("created_at", "id")
    package: dict[str, Any] = {
        "escalation": escalation.pk,
        "generated_at": clock.now().isoformat(),
        "case": {
            "id": case.pk,
            "category": case.category,
            "keywords": case.keywords,
            "opened_at": case.opened_at.isoformat(),
            "involves_minor": case.involves_minor,
        },
        "subject_account": None
        if subject is None
        else {
            "id": subject.pk,
            "username": subject.username,
            "external_id": subject.external_id,
            "country": str(subject.country),
            "created_at": subject.date_joined.isoformat(),
            "status": subject.status,
        },
        "reports": [
            {
                "id": r.pk,
                "created_at": r.created_at.isoformat(),
                "reporter_kind": r.reporter_kind,
                "reporter_id": r.reporter_id,
                "source_type": r.source_type,
                "category": r.category,
                "keywords": r.keywords,
                "explanation": r.explanation,
            }
            for r in reports
        ],
        "decisions": [
            {
                "id": d.pk,
                "type": d.type,
                "decided_at": d.decided_at.isoformat(),
                "ground": d.ground,
                "facts": d.facts,
            }
            for d in case.decisions.order_by("decided_at", "id")
        ],
        "messages": [
            {
                "id": m.pk,
                "thread": m.thread_id,
                "sender": m.sender_id,
                "sent_at": m.created_at.isoformat(),
                "body": m.body,
            }
            for m in messages
        ],
    }
    digest = hashlib.sha256(json.dumps(package, sort_keys=True).encode()).hexdigest()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="moderation.child_safety.package_exported",
            target=escalation,
            reason="Report package for the competent authority",
            after={"case": case.pk, "sha256": digest, "messages": len(package["messages"])},
        )
    return {"sha256": digest, "package": package}


def mark_reported(
    escalation: ChildSafetyEscalation, *, actor: User, reference: str
) -> ChildSafetyEscalation:
    """Record that the package was sent, with the authority's reference; audited."""
    require_perm(actor, PERM_REPORT, doing="mark child-safety escalations reported")
    reference = (reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise DomainError(
            "invalid",
            "The authority's reference is required.",
            fields={"reference": [f"Required, at most {REFERENCE_MAX} characters."]},
        )
    with transaction.atomic():
        locked = ChildSafetyEscalation.objects.select_for_update().get(pk=escalation.pk)
        if locked.status != ChildSafetyEscalation.Status.OPEN:
            raise Conflict("already_reported", "This escalation was already reported.")
        locked.status = ChildSafetyEscalation.Status.REPORTED
        locked.reported_at = clock.now()
        locked.reported_by = actor
        locked.authority_reference = reference
        locked.save(update_fields=["status", "reported_at", "reported_by", "authority_reference"])
        audit.record(
            actor=actor,
            action="moderation.child_safety.reported",
            target=locked,
            reason=f"Reported to the authority: {reference}",
            before={"status": "open"},
            after={"status": "reported", "reference": reference},
        )
    return locked
