"""What became of a reporter's reports (DSA art. 16(5), issue 12.3): GET /api/v1/reports/?reporter=.

A reporter is told the status of each report and, when the case was decided, whether action was
taken: never what the action was or anything else about the reported person (their sanction is
their own; the statement of reasons is public without names). A no-violation outcome says until
when the reporter may appeal it (DSA art. 20; `services.appeal_deadline_of`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from rest_framework import serializers

from moderation import services
from moderation.models import Appeal, Case, Decision, Report
from safety_portal.rules.decisions import DecisionType

STATUSES = ["received", "under_review", "action_taken", "no_violation"]
_WORDS = {
    "received": "Received: a moderator will look at it.",
    "under_review": "A moderator is looking at it.",
    "action_taken": "Decided: we took action.",
    "no_violation": "Decided: we found no breach of our rules or the law.",
}


class ReporterReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject_type = serializers.CharField()
    subject_id = serializers.IntegerField()
    category = serializers.CharField()
    created_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=STATUSES)
    status_text = serializers.CharField(help_text="The status in plain words for the reporter.")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.IntegerField(
        allow_null=True, help_text="The no-violation decision a reporter may appeal; else null."
    )
    appealable_until = serializers.DateTimeField(
        allow_null=True,
        help_text="Until when the reporter may appeal a no-violation decision (POST appeals/); "
        "null when there is nothing they may appeal or it has been appealed.",
    )


_FIELDS = (
    "id", "subject_type", "subject_user_id", "subject_message_id", "subject_thread_id",
    "category", "created_at", "outcome", "case__status", "case__claimed_by_id",
    "case__escalated_at", "case__decided_at",
)  # fmt: skip


def reports_of(reporter_id: int) -> QuerySet[Report]:
    """The reporter's reports with what their status needs, in one query (the reporter index)."""
    no_violation = Decision.objects.filter(
        case_id=OuterRef("case_id"), type=DecisionType.NO_VIOLATION.value, overturned_at=None
    ).order_by("-decided_at", "-id")
    return (
        Report.objects.filter(reporter_id=reporter_id)
        .select_related("case")
        .only(*_FIELDS)
        .annotate(no_violation_id=Subquery(no_violation.values("pk")[:1]))
    )


def represent(
    report: Report, decisions: dict[int, Decision], *, now: dt.datetime
) -> dict[str, Any]:
    case = report.case
    if report.outcome == Report.Outcome.UPHELD:
        state = "action_taken"
    elif report.outcome == Report.Outcome.REJECTED:
        state = "no_violation"
    elif case.claimed_by_id or case.status == Case.Status.ESCALATED:
        state = "under_review"
    else:
        state = "received"
    decision = decisions.get(report.no_violation_id) if state == "no_violation" else None
    until = None
    if decision is not None and not decision.appealed:
        deadline = services.appeal_deadline_of(decision)
        until = deadline if deadline > now else None
    subject_id = report.subject_user_id or report.subject_message_id or report.subject_thread_id
    return {
        "id": report.pk,
        "subject_type": report.subject_type,
        "subject_id": subject_id,
        "category": report.category,
        "created_at": report.created_at,
        "status": state,
        "status_text": _WORDS[state],
        "decided_at": case.decided_at if state in {"action_taken", "no_violation"} else None,
        "decision": decision.pk if decision is not None else None,
        "appealable_until": until,
    }


def represent_page(page: list[Report], *, now: dt.datetime) -> list[dict[str, Any]]:
    """The page's rows; the no-violation decisions they point at in one more query."""
    ids = {r.no_violation_id for r in page if r.no_violation_id}
    appealed = Exists(Appeal.objects.filter(decision=OuterRef("pk")))
    found = Decision.objects.filter(pk__in=ids).annotate(appealed=appealed) if ids else []
    decisions = {d.pk: d for d in found}
    return [represent(r, decisions, now=now) for r in page]
