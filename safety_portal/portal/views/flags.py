"""Flagged accounts: age signals and contact-risk signals for staff review (issue 5; POLICY.md §4).

A flag never changes an account by itself. Staff confirm it (it joins the case queue), dismiss it,
or, for an age flag, require age verification — each through `moderation.services` /
`Flag.objects`, which check the role and write the audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from moderation import services
from moderation.models import Flag
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import DomainError

from ..access import staff_view
from ..pages import page
from ..presentation import age_of

PAGE_SIZE = 100


@require_GET
@staff_view("moderation.view_flag")
def flag_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "open")
    qs = Flag.objects.select_related("user", "reviewed_by", "case")
    qs = qs.open() if status == "open" else qs.exclude(status="open")
    if kind in Flag.Kind.values:
        qs = qs.of_kind(kind)
    order = ("-last_signal_at", "-id") if status == "open" else ("-reviewed_at", "-id")
    flags = list(qs.order_by(*order)[:PAGE_SIZE])
    today = clock.today()
    show_age = request.user.has_perm("accounts.view_age")
    rows = [
        {
            "flag": f,
            "age": age_of(f.user, on=today) if show_age else None,
            "latest": _evidence_line(f.signals[-1]) if f.signals else "",
        }
        for f in flags
    ]
    return page(
        request,
        "portal/flags.html",
        {"rows": rows, "kind": kind, "status": status, "kinds": Flag.Kind.choices},
        nav="flags",
    )


def _signal_row(signal: dict[str, Any]) -> dict[str, Any]:
    """One piece of evidence, readable: when, where from, and its details as text."""
    try:
        at = dt.datetime.fromisoformat(str(signal.get("at", "")))
    except ValueError:
        at = None
    details = []
    for key, value in signal.items():
        if key in {"at", "source"}:
            continue
        if isinstance(value, list | tuple):
            value = "; ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        details.append((key.replace("_", " "), value))
    source = str(signal.get("source", "signal")).replace("_", " ")
    return {"at": at, "source": source, "details": details}


def _evidence_line(signal: dict[str, Any]) -> str:
    row = _signal_row(signal)
    details = "; ".join(str(value) for key, value in row["details"] if key in {"why", "reasons"})
    return f"{row['source'].capitalize()}: {details}" if details else row["source"].capitalize()


def _flag_context(request: HttpRequest, flag: Flag) -> dict[str, Any]:
    user = request.user
    return {
        "flag": flag,
        "age": age_of(flag.user, on=clock.today()) if user.has_perm("accounts.view_age") else None,
        "signals": [_signal_row(s) for s in reversed(flag.signals)],
        "can_review": flag.status == "open" and user.has_perm(rules.decisions.PERM_REVIEW_FLAG),
        "can_require_age_check": flag.status == "open"
        and flag.kind == Flag.Kind.AGE
        and user.has_perm(rules.decisions.PERM_REVIEW_FLAG)
        and user.has_perm(rules.decisions.PERM_UNDER_AGE),
    }


@require_GET
@staff_view("moderation.view_flag")
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(Flag.objects.select_related("user", "case", "reviewed_by"), pk=flag_id)
    return page(request, "portal/flag.html", _flag_context(request, flag), nav="flags")


@require_POST
@staff_view("moderation.view_flag", rules.decisions.PERM_REVIEW_FLAG)
def flag_review(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(Flag.objects.select_related("user"), pk=flag_id)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        if action == "confirm":
            case = services.confirm_flag(flag, actor=request.user, note=note)
            messages.success(request, f"Flag confirmed: it is on case #{case.pk} in the queue.")
            return redirect("portal:case", case_id=case.pk)
        if action == "age_check":
            decision = services.request_age_verification(flag, actor=request.user, note=note)
            messages.success(request, "Age verification required; the account is paused for it.")
            return redirect("portal:case", case_id=decision.case_id)
        if action == "dismiss":
            Flag.objects.dismiss(flag, actor=request.user, note=note)
            messages.success(request, "Flag dismissed.")
            return redirect("portal:flags")
        raise DomainError("invalid", "Choose confirm, dismiss or require an age check.")
    except DomainError as exc:
        ctx = _flag_context(request, flag)
        ctx["error"] = exc.detail
        ctx["note"] = note
        return page(request, "portal/flag.html", ctx, nav="flags", status=exc.status_code)
