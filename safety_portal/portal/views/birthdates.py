"""Birthdate-change requests (POLICY.md §4): the queue and the decision form for senior staff.

The decision goes through `BirthdateChangeRequest.objects.approve/reject`, which check the reviewer,
apply the date through the sanctioned path and write the audit entry. The page shows ages and tiers;
the exact dates appear only when the reviewer asks, with a reason (audited, disclosure.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods

from accounts.models import BirthdateChangeRequest
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import DomainError

from .. import disclosure
from ..access import staff_view
from ..pages import page
from ..presentation import TIER_LABELS

STATUS_FILTERS = [("pending", "Pending"), ("decided", "Decided"), ("all", "All")]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve the change"), ("reject", "Reject the change")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Recorded with the decision and in the audit log. No document contents.",
    )


def _ages(req: BirthdateChangeRequest) -> dict[str, Any]:
    today = clock.today()
    old_age = rules.ages.age_on(req.old_birthdate, today)
    new_age = rules.ages.age_on(req.new_birthdate, today)
    return {
        "old_age": old_age,
        "new_age": new_age,
        "old_tier": TIER_LABELS[rules.ages.tier_for_age(old_age)],
        "new_tier": TIER_LABELS[rules.ages.tier_for_age(new_age)],
    }


@require_http_methods(["GET"])
@staff_view("accounts.view_birthdatechangerequest")
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "pending")
    qs = BirthdateChangeRequest.objects.select_related("user", "decided_by")
    if status == "pending":
        qs = qs.filter(status="pending").order_by("created_at")
    elif status == "decided":
        qs = qs.filter(status__in=["approved", "rejected"]).order_by("-decided_at")
    else:
        qs = qs.order_by("-created_at")
    rows = [{"req": r, **_ages(r)} for r in qs[:200]]
    return page(
        request,
        "portal/birthdate_requests.html",
        {"rows": rows, "status": status, "filters": STATUS_FILTERS},
        nav="birthdates",
    )


@require_http_methods(["GET", "POST"])
@staff_view("accounts.view_birthdatechangerequest")
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    req = get_object_or_404(
        BirthdateChangeRequest.objects.select_related("user", "decided_by"), pk=request_id
    )
    can_decide = request.user.has_perm("accounts.decide_birthdatechangerequest")
    form = DecisionForm()
    ctx: dict[str, Any] = {"req": req, **_ages(req), "can_decide": can_decide}
    status = 200
    if request.method == "POST" and request.POST.get("intent") == "reveal":
        try:
            ctx["dates"] = disclosure.reveal_request_dates(
                req, actor=request.user, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            ctx["reveal_error"] = exc.detail
            status = exc.status_code
    elif request.method == "POST":
        if not can_decide:
            return page(request, "403.html", {}, nav="birthdates", status=403)
        form = DecisionForm(request.POST)
        if form.is_valid():
            manager = BirthdateChangeRequest.objects
            action = (
                manager.approve if form.cleaned_data["decision"] == "approve" else manager.reject
            )
            try:
                action(req, actor=request.user, note=form.cleaned_data["note"])
            except DomainError as exc:
                for field, errors in exc.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not exc.fields:
                    form.add_error(None, exc.detail)
                status = exc.status_code
            else:
                messages.success(request, f"Request #{req.pk} {req.get_status_display().lower()}.")
                return redirect("portal:birthdate_requests")
        else:
            status = 400
    ctx["form"] = form
    return page(request, "portal/birthdate_request.html", ctx, nav="birthdates", status=status)
