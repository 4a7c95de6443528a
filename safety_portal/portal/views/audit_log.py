"""The audit log viewer: read-only, filtered by actor, action, target and date; chain verification.

Fast at millions of entries: filters map onto the log's indexes (action prefix, actor, target, and
dates turned into an `id` range through the `created_at` index), pages move by `id` (keyset, no
OFFSET), and nothing counts the table (the total shown is PostgreSQL's estimate). Entries are listed
by id, not by chain position: with the deferred chain (D23) an entry is visible from its commit,
seconds before the chainer gives it a `seq`.

What a reader sees is trimmed to their role (issue 5): without `moderation.view_exact_birthdate`, any
birthdate left in an entry (an adult's; minors' are redacted at write time) is hidden; without
`messaging.read_message_body`, message text is hidden.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from safety_portal.core import audit, clock
from safety_portal.core.audit.anchors import AnchorError
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.audit.verification import verify_chain as run_check
from safety_portal.core.paginator import estimated_rows
from safety_portal.core.replica import reads_from_replica

from .. import rows as row_html
from ..access import staff_view
from ..pages import page

PAGE_SIZE = 50
HIDDEN = "[hidden for your role]"


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "username, system:job, api_client:7"}),
    )
    action = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "moderation.decision (a prefix)"}),
    )
    target = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "username, moderation.case:12"}),
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


@dataclass
class Row:
    entry: AuditEntry
    before: tuple[str, str]
    after: tuple[str, str]


def _day_start(day: dt.date) -> dt.datetime:
    return clock.start_of(day)


def _actor_filter(value: str) -> Q:
    kind, sep, ident = value.partition(":")
    if sep and kind in {"user", "api_client", "system"}:
        return Q(actor_kind=kind, actor_id=ident)
    user_id = User.objects.filter(username=value).values_list("pk", flat=True).first()
    if user_id is not None:
        return Q(actor_kind="user", actor_id=str(user_id))
    return Q(actor_kind="system", actor_id=value)


def _target_filter(value: str) -> Q:
    kind, sep, ident = value.rpartition(":")
    if sep and "." in kind:
        return Q(target_type=kind, target_id=ident)
    user_id = User.objects.filter(username=value).values_list("pk", flat=True).first()
    return Q(target_type="accounts.user", target_id=str(user_id if user_id is not None else -1))


def filtered(data: dict[str, Any]) -> QuerySet[AuditEntry]:
    """The entries matching the filter form's cleaned data, newest first (index-backed)."""
    qs = AuditEntry.objects.all()
    if data.get("actor"):
        qs = qs.filter(_actor_filter(data["actor"].strip()))
    if data.get("action"):
        qs = qs.action_prefix(data["action"].strip())
    if data.get("target"):
        qs = qs.filter(_target_filter(data["target"].strip()))
    # The date filter itself is exact (`created_at`); the id bounds, one probe of the `created_at`
    # index each, only let the query walk the id-ordered indexes over the period.
    if data.get("since"):
        start = _day_start(data["since"])
        qs = qs.filter(created_at__gte=start)
        before_it = _last_id_before(start - ID_CLOCK_SLACK)
        if before_it is not None:
            qs = qs.filter(id__gt=before_it)
    if data.get("until"):
        end = _day_start(data["until"] + dt.timedelta(days=1))
        qs = qs.filter(created_at__lt=end)
        after_it = _first_id_from(end + ID_CLOCK_SLACK)
        if after_it is not None:
            qs = qs.filter(id__lt=after_it)
    return qs.order_by("-id")


# Ids and times grow together but not in lock step: a writer reads the time, then takes its id at
# INSERT, while other writers do the same, so around a moment an entry with a smaller id can carry
# the later time. Entries this far apart in time are in id order, so an entry written before
# `start - slack` bounds the ids of the period from below, and one written after `end + slack`
# from above.
ID_CLOCK_SLACK = dt.timedelta(minutes=1)


def _last_id_before(moment: dt.datetime) -> int | None:
    qs = AuditEntry.objects.filter(created_at__lt=moment).order_by("-created_at")
    return qs.values_list("id", flat=True).first()


def _first_id_from(moment: dt.datetime) -> int | None:
    qs = AuditEntry.objects.filter(created_at__gte=moment).order_by("created_at")
    return qs.values_list("id", flat=True).first()


def _mask(values: Any, *, birthdates: bool, bodies: bool) -> Any:
    if isinstance(values, dict):
        out = {}
        for key, value in values.items():
            lowered = key.lower()
            if (not birthdates and "birthdate" in lowered and not isinstance(value, dict)) or (
                not bodies and lowered in {"body", "message_body", "text"}
            ):
                out[key] = HIDDEN
            else:
                out[key] = _mask(value, birthdates=birthdates, bodies=bodies)
        return out
    if isinstance(values, list):
        return [_mask(v, birthdates=birthdates, bodies=bodies) for v in values]
    return values


def _show(values: Any, *, birthdates: bool, bodies: bool) -> tuple[str, str]:
    """(one-line summary, full JSON) of a before/after value, masked for the reader's role."""
    if values in (None, {}, []):
        return "", ""
    masked = _mask(values, birthdates=birthdates, bodies=bodies)
    full = json.dumps(masked, ensure_ascii=False, sort_keys=True, indent=1)
    if isinstance(masked, dict):
        parts = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(masked.items())]
        line = " · ".join(parts)
    else:
        line = json.dumps(masked, ensure_ascii=False)
    return (line if len(line) <= 140 else line[:139] + "…"), full


@require_GET
@staff_view("audit.view_auditentry")
@reads_from_replica  # the search; verify_chain below reads the primary
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = filtered(data)
    before = _int(request.GET.get("before"))
    after = _int(request.GET.get("after"))
    if after is not None:
        newer_first = list(qs.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        has_newer, has_older = len(newer_first) > PAGE_SIZE, True
        window = list(reversed(newer_first[:PAGE_SIZE]))
    else:
        start = qs.filter(id__lt=before) if before is not None else qs
        window = list(start[: PAGE_SIZE + 1])
        has_newer, has_older = before is not None, len(window) > PAGE_SIZE
        window = window[:PAGE_SIZE]
    birthdates = request.user.has_perm("moderation.view_exact_birthdate")
    bodies = request.user.has_perm("messaging.read_message_body")
    rows = [
        Row(
            e,
            _show(e.before, birthdates=birthdates, bodies=bodies),
            _show(e.after, birthdates=birthdates, bodies=bodies),
        )
        for e in window
    ]
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    unfiltered = not any(data.values()) if data else True
    return page(
        request,
        "portal/audit_log.html",
        {
            "form": form,
            "rows": rows,
            "rows_html": row_html.audit_rows(rows),
            "older_url": f"?{_with(query, before=window[-1].id)}" if window and has_older else "",
            "newer_url": f"?{_with(query, after=window[0].id)}" if window and has_newer else "",
            "estimated_total": estimated_rows(AuditEntry) if unfiltered else None,
            "verification": request.session.pop("audit_verification", None),
            "can_verify": request.user.has_perm("audit.verify_chain"),
        },
        nav="audit",
    )


def _with(query: Any, **values: Any) -> str:
    q = query.copy()
    for key, value in values.items():
        q[key] = str(value)
    return q.urlencode()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def verify(*, actor: object) -> dict[str, Any]:
    """Run the same check as `manage.py verify_audit_log` (chain and external anchors) and record
    that it ran, with its verdict, in the log itself."""
    try:
        outcome = run_check(anchors="all")
    except AnchorError as exc:
        result = {
            "ok": False,
            "checked": 0,
            "problem": f"cannot verify: the anchor store could not be read ({exc})",
            "summary": "",
        }
    else:
        result = {
            "ok": outcome.ok,
            "checked": outcome.checked,
            "problem": str(outcome.problem) if outcome.problem else "",
            "summary": outcome.summary(),
        }
    result["at"] = timezone.now().isoformat(timespec="seconds")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="audit.chain.verified",
            reason="Run from the portal's audit log page.",
            after={k: result[k] for k in ("ok", "checked", "problem")},
        )
    return result


@require_POST
@staff_view("audit.view_auditentry", "audit.verify_chain")
def verify_chain(request: HttpRequest) -> HttpResponse:
    from django.shortcuts import redirect

    request.session["audit_verification"] = verify(actor=request.user)
    return redirect("portal:audit_log")
