"""Appeals (DSA art. 20; POLICY.md §4 for under-age appeals): the queue and the decision form.

`moderation.services.decide_appeal` checks that the reviewer is a senior moderator who neither took
the decision nor filed the appeal, reverses the effects on overturn, and writes the audit entry.
The queue lists only appeals this reviewer may decide (`Appeal.objects.decidable_by`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods

from moderation import services
from moderation.models import Appeal
from safety_portal import rules
from safety_portal.core.errors import DomainError

from ..access import staff_view
from ..pages import page


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            ("uphold", "Uphold the decision (appeal rejected)"),
            ("overturn", "Overturn the decision and reverse its effects"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Your reasons; the appellant is told the outcome.",
    )


@require_GET
@staff_view(rules.decisions.PERM_DECIDE_APPEAL)
def appeal_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "pending")
    base = Appeal.objects.select_related(
        "decision", "decision__decided_by", "decision__case", "appellant", "reviewer"
    )
    if status == "pending":
        appeals = list(base.decidable_by(request.user)[:200])
        others = base.pending().count() - len(appeals)
    else:
        appeals = list(base.exclude(status="pending").order_by("-decided_at")[:200])
        others = 0
    return page(
        request,
        "portal/appeals.html",
        {"appeals": appeals, "status": status, "not_yours": max(others, 0)},
        nav="appeals",
    )


@require_http_methods(["GET", "POST"])
@staff_view(rules.decisions.PERM_DECIDE_APPEAL)
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related(
            "decision",
            "decision__decided_by",
            "decision__case",
            "decision__target_user",
            "appellant",
            "reviewer",
        ),
        pk=appeal_id,
    )
    conflict = ""
    if appeal.decision.decided_by_id == request.user.pk:
        conflict = "You took this decision, so another senior moderator decides the appeal."
    elif appeal.appellant_id == request.user.pk:
        conflict = "Nobody decides their own appeal."
    form = AppealDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.decide_appeal(
                    appeal,
                    actor=request.user,
                    overturn=form.cleaned_data["outcome"] == "overturn",
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
                status = exc.status_code
            else:
                messages.success(request, f"Appeal #{appeal.pk} decided.")
                return redirect("portal:appeals")
        else:
            status = 400
    ctx: dict[str, Any] = {
        "appeal": appeal,
        "decision": appeal.decision,
        "form": form,
        "conflict": conflict,
        "can_decide": appeal.status == "pending" and not conflict,
        "effects": list(appeal.decision.effects.all().order_by("pk")),
    }
    return page(request, "portal/appeal.html", ctx, nav="appeals", status=status)
