"""Child-safety escalations (issue 12.6): the queue of cases of child sexual exploitation waiting
to be reported to the competent authority, each with its legal holds, the report package to
download and the form to record the authority's reference. Only the Child safety lead role holds
`moderation.view_childsafetyescalation`; every action goes through `moderation.actions.child_safety`
(audited there)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import LegalHold
from moderation.actions import child_safety
from moderation.models import ChildSafetyEscalation
from safety_portal.core.errors import DomainError

from ..access import staff_view
from ..pages import page


class ReportedForm(forms.Form):
    reference = forms.CharField(
        max_length=child_safety.REFERENCE_MAX,
        help_text="The report number the authority gave you (e.g. the CyberTipline report id).",
    )


@require_GET
@staff_view(child_safety.PERM_VIEW)
def escalation_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    rows = ChildSafetyEscalation.objects.select_related("case", "case__subject_user")
    rows = rows.filter(status="open") if status == "open" else rows.exclude(status="open")
    return page(
        request,
        "portal/child_safety.html",
        {"escalations": list(rows.order_by("opened_at", "pk")[:200]), "status": status},
        nav="child_safety",
    )


@require_http_methods(["GET", "POST"])
@staff_view(child_safety.PERM_VIEW)
def escalation_detail(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = get_object_or_404(
        ChildSafetyEscalation.objects.select_related("case", "case__subject_user", "reported_by"),
        pk=escalation_id,
    )
    form = ReportedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child_safety.mark_reported(
                escalation, actor=request.user, reference=form.cleaned_data["reference"]
            )
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, f"Escalation #{escalation.pk} recorded as reported.")
            return redirect("portal:child_safety_escalation", escalation_id=escalation.pk)
    holds = LegalHold.objects.filter(case_id=escalation.case_id).select_related("user")
    return page(
        request,
        "portal/child_safety_escalation.html",
        {
            "escalation": escalation,
            "holds": list(holds.order_by("placed_at")),
            "form": form,
            "can_report": request.user.has_perm(child_safety.PERM_REPORT),
        },
        nav="child_safety",
    )


@require_GET
@staff_view(child_safety.PERM_REPORT)
def escalation_package(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = get_object_or_404(ChildSafetyEscalation, pk=escalation_id)
    exported = child_safety.report_package(escalation, actor=request.user)
    response = HttpResponse(
        json.dumps(exported, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="child-safety-case-{escalation.case_id}.json"'
    )
    return response
