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
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods, require_POST

from moderation import services
from moderation.models import Case, CaseNote, Decision
from safety_portal import rules
from safety_portal.core.errors import Conflict, DomainError

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
    """Validate the form's shape, preview the notice, or decide through the service.

    A second POST of a form that already decided (a double click, Enter pressed twice, a reload)
    changes nothing and says so (D37): `decide` consumes the moderator's claim and closes the case
    under the case's row lock, so the second request finds the case closed, before or under that
    lock, and is answered like the first, with the decision that stands.
    """
    case = _case_or_404(case_id)
    if _already_settled_by_this_form(request, case):
        return _nothing_changed(request, case)
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
                decision = services.decide(
                    case, actor=request.user, category=data.get("category") or None, **arguments
                )
            except DomainError as exc:
                if isinstance(exc, Conflict) and exc.code == "case_closed":
                    # The other submit of the same form won the row lock and decided.
                    return _nothing_changed(request, case)
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


def _latest_decision(case: Case) -> Decision | None:
    return (
        Decision.objects.filter(case=case)
        .select_related("decided_by")
        .order_by("-decided_at", "-pk")
        .first()
    )


def _already_settled_by_this_form(request: HttpRequest, case: Case) -> bool:
    """Whether the case is past the state a decision form is posted in: decided, or escalated by
    this moderator (their escalation consumed their claim; the form cannot act again)."""
    if not case.is_open:
        return True
    if case.status != rules.casework.ESCALATED:
        return False
    latest = _latest_decision(case)
    return (
        latest is not None
        and latest.type == rules.decisions.DecisionType.ESCALATE
        and latest.decided_by_id == request.user.pk
        and case.claimed_by_id is None
    )


def _nothing_changed(request: HttpRequest, case: Case) -> HttpResponse:
    """The answer to a decision form that has already been acted on: the decision that stands,
    and that this submission changed nothing."""
    case.refresh_from_db()
    latest = _latest_decision(case)
    if latest is None:  # closed without a decision row cannot happen; say only what is true
        text = f"Case #{case.pk} is already closed. This submission changed nothing."
    else:
        done = "escalated" if latest.type == rules.decisions.DecisionType.ESCALATE else "decided"
        text = (
            f"Case #{case.pk} was already {done}: {latest.get_type_display()} by "
            f"{latest.decided_by.username} at {localtime(latest.decided_at):%H:%M:%S}. "
            "This submission changed nothing."
        )
    messages.warning(request, text)
    return redirect("portal:case", case_id=case.pk)


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
