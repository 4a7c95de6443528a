"""Submission of statements of reasons to the DSA Transparency Database (issue 12.4): the state.

Staff who see statements (the Auditor) see how many are accepted, pending and rejected, and each
rejected statement with the database's own error text, so that the builder can be fixed: a
rejected statement is never resent by itself (the database refused its content, not the call).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from moderation.models import StatementOfReasons
from safety_portal.integrations.models import StatementSubmission

from ..access import staff_view
from ..pages import page

REJECTED_SHOWN = 200


@require_GET
@staff_view("moderation.view_statementofreasons")
def submission_state(request: HttpRequest) -> HttpResponse:
    counts = dict(
        StatementSubmission.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    not_enrolled = StatementOfReasons.objects.filter(submission__isnull=True).count()
    rejected = list(
        StatementSubmission.objects.rejected()
        .select_related("statement")
        .order_by("-last_attempt_at", "-id")[:REJECTED_SHOWN]
    )
    retrying = (
        StatementSubmission.objects.pending()
        .exclude(last_error="")
        .order_by("next_attempt_at")
        .first()
    )
    return page(
        request,
        "portal/statement_submissions.html",
        {
            "enabled": bool(getattr(settings, "TRANSPARENCY_DB_URL", "")),
            "accepted": counts.get(StatementSubmission.Status.ACCEPTED, 0),
            "pending": counts.get(StatementSubmission.Status.PENDING, 0) + not_enrolled,
            "rejected_count": counts.get(StatementSubmission.Status.REJECTED, 0),
            "rejected": rejected,
            "retrying": retrying,
        },
        nav="statement_submissions",
    )
