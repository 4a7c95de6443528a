"""The root URL: the login page for anonymous visitors, the dashboard after login (issue 5).

What each person sees follows their role: moderators their claimed cases, the queue by priority
with due times and overdue counts, and the cases involving minors; senior moderators the appeals
and birthdate requests waiting for them; case workers how many harmful cases (self-harm, violence,
minors) they decided or revealed today, for themselves alone; everyone with `audit.view_metrics`
the 30-day charts.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import BirthdateChangeRequest
from moderation import wellbeing
from moderation.models import Appeal, Case, Flag
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.replica import heavy_reads

from .. import metrics
from ..access import staff_view
from ..pages import page
from . import auth
from .case_list import case_rows


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return auth.login(request)
    return dashboard(request)


@staff_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = clock.now()
    show_age = user.has_perm("accounts.view_age")
    ctx: dict[str, Any] = {"now": now}
    if user.has_perm("moderation.view_case"):
        mine = list(
            Case.objects.claimed_by(user, at=now)
            .select_related("subject_user", "claimed_by")
            .order_by("due_at")[:10]
        )
        minors = list(
            Case.objects.open()
            .involving_minors()
            .select_related("subject_user", "claimed_by")
            .order_by("-priority_score", "due_at", "id")[:8]
        )
        top = list(
            Case.objects.for_queue("all", moderator=user, at=now).select_related(
                "subject_user", "claimed_by"
            )[:8]
        )
        bands = metrics.queue_by_band(at=now, user=user)
        ctx.update(
            mine=case_rows(mine, at=now, show_age=show_age),
            minors=case_rows(minors, at=now, show_age=show_age),
            top=case_rows(top, at=now, show_age=show_age),
            bands=bands,
            waiting=sum(b.waiting for b in bands),
            overdue=sum(b.overdue for b in bands),
            can_claim=user.has_perm(rules.decisions.PERM_CLAIM),
            # Issue 15.3: the moderator's own exposure today, shown to them alone (D34).
            harmful_today=wellbeing.harmful_cases_today(user, on=clock.today()),
        )
    if user.has_perm(rules.decisions.PERM_DECIDE_APPEAL):
        ctx["appeals"] = list(
            Appeal.objects.decidable_by(user).select_related("decision", "appellant")[:5]
        )
        ctx["appeals_waiting"] = Appeal.objects.pending().count()
    if user.has_perm("accounts.view_birthdatechangerequest"):
        ctx["birthdate_waiting"] = BirthdateChangeRequest.objects.filter(status="pending").count()
    if user.has_perm("moderation.view_flag"):
        ctx["flags_open"] = Flag.objects.open().count()
    if user.has_perm("audit.view_metrics"):
        with heavy_reads():  # thirty days of figures; a moderator's own work is read above
            ctx["charts"] = metrics.thirty_days()
    return page(request, "portal/dashboard.html", ctx, nav="dashboard")
