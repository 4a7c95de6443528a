"""What a moderator does on a case: claim, release, take over, escalate, note, decide. Thin: the
managers and `moderation.services` check every rule.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from moderation import services
from moderation.models import Case, CaseNote
from safety_portal import rules
from safety_portal.core.errors import DomainError

from .. import notice_preview
from ..access import staff_view
from ..pages import page
from .case_workspace import DecisionForm, _case_or_404, workspace_context


def _act(request: HttpRequest, case: Case, action: Any, success: str) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))


@require_POST
@staff_view("moderation.view_case", rules.decisions.PERM_CLAIM)
def case_claim(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return _act(
        request,
        case,
        lambda: Case.objects.claim(case, actor=request.user),
        f"You hold case #{case.pk}.",
    )


@require_POST
@staff_view("moderation.view_case")
def case_release(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return _act(
        request,
        case,
        lambda: Case.objects.release(
            case, actor=request.user, reason=request.POST.get("reason", "")
        ),
        f"Case #{case.pk} is back in the queue.",
    )


@require_POST
@staff_view("moderation.view_case", rules.decisions.PERM_TAKE_OVER)
def case_take_over(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return _act(
        request,
        case,
        lambda: Case.objects.take_over(
            case, actor=request.user, reason=request.POST.get("reason", "")
        ),
        f"You took over case #{case.pk}.",
    )


@require_POST
@staff_view("moderation.view_case", rules.decisions.PERM_ESCALATE)
def case_escalate(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return _act(
        request,
        case,
        lambda: Case.objects.escalate(
            case, actor=request.user, reason=request.POST.get("reason", "")
        ),
        f"Case #{case.pk} went to the senior moderators.",
    )


@require_POST
@staff_view("moderation.view_case", rules.decisions.PERM_NOTE)
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return _act(
        request,
        case,
        lambda: CaseNote.objects.add(case, actor=request.user, body=request.POST.get("body", "")),
        "Note added.",
    )


@require_http_methods(["POST"])
@staff_view("moderation.view_case", rules.decisions.PERM_DECIDE)
def case_decide(request: HttpRequest, case_id: int) -> HttpResponse:
    """Validate the form's shape, preview the notice, or decide through the service."""
    case = _case_or_404(case_id)
    if not workspace_context(request, case).get("show_decision_form"):
        messages.error(request, "Claim the case before deciding it (it is not held by you).")
        return redirect("portal:case", case_id=case.pk)
    form = DecisionForm(request.POST, user=request.user, case=case)
    ctx_status = 400
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        arguments = _decision_arguments(case, data)
        if request.POST.get("intent") == "preview":
            try:
                preview = notice_preview.render(case, actor=request.user, **arguments)
                ctx_status = 200
            except DomainError as exc:
                _errors_into(form, exc)
        else:
            try:
                decision = services.decide(case, actor=request.user, **arguments)
            except DomainError as exc:
                _errors_into(form, exc)
                ctx_status = exc.status_code
            else:
                messages.success(
                    request,
                    f"Decided: {decision.get_type_display()}. Case #{case.pk} is closed.",
                )
                return redirect("portal:case", case_id=case.pk)
    case.refresh_from_db()
    ctx = workspace_context(request, case, form=form)
    ctx["preview"] = preview
    return page(request, "portal/case.html", ctx, nav="queue", status=ctx_status)


def _decision_arguments(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    kind = data["decision_type"]
    message_ids: list[int] = []
    wants_removal = (
        data.get("remove_reported_message") or kind == rules.decisions.DecisionType.REMOVE_MESSAGES
    )
    if wants_removal and case.subject_message_id is not None:
        message_ids = [case.subject_message_id]
    return {
        "decision_type": kind,
        "facts": data.get("facts", ""),
        "ground": data.get("ground") or "",
        "explanation": data.get("explanation") or "",
        "days": data.get("days") if kind in {t.value for t in rules.decisions.TIMED} else None,
        "feature": (data.get("feature") or "")
        if kind == rules.decisions.DecisionType.RESTRICT_FEATURE
        else "",
        "message_ids": message_ids,
        "lock_thread": bool(data.get("lock_thread")),
    }


def _errors_into(form: forms.Form, exc: DomainError) -> None:
    aliases = {"message_ids": "remove_reported_message", "type": "decision_type"}
    placed = False
    for field, errors in exc.fields.items():
        name = aliases.get(field, field)
        if name in form.fields:
            form.add_error(name, errors)
            placed = True
    if not placed or not exc.fields:
        form.add_error(None, exc.detail)
