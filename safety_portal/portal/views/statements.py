"""Statements of reasons (DSA art. 17, 24(5)): list, filter, export.

The export is the same file `manage.py export_statements` writes (`moderation.statements`), so
what an auditor downloads is what the Transparency Database receives. Statements hold no personal
data by construction (validated when they are created).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from moderation import statements
from moderation.models import StatementOfReasons
from safety_portal import rules
from safety_portal.core import clock

from ..access import staff_view
from ..pages import page
from ..presentation import category_label

PAGE_SIZE = 50


class StatementFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any category"),
            *[(c.value, c.value) for c in rules.sor_vocabulary.Category],
        ],
    )


def _start(day: dt.date) -> dt.datetime:
    return clock.start_of(day)


@require_GET
@staff_view("moderation.view_statementofreasons")
def statement_list(request: HttpRequest) -> HttpResponse:
    form = StatementFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = StatementOfReasons.objects.select_related("decision")
    if data.get("since"):
        qs = qs.filter(created_at__gte=_start(data["since"]))
    if data.get("until"):
        qs = qs.filter(created_at__lt=_start(data["until"] + dt.timedelta(days=1)))
    if data.get("category"):
        qs = qs.filter(payload__category=data["category"])
    before = request.GET.get("before")
    if before and before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    window = list(qs.order_by("-id")[: PAGE_SIZE + 1])
    more = len(window) > PAGE_SIZE
    window = window[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    older = ""
    if more and window:
        query["before"] = str(window[-1].pk)
        older = "?" + query.urlencode()
    export_since = (data.get("since") or (timezone.localdate() - dt.timedelta(days=30))).isoformat()
    return page(
        request,
        "portal/statements.html",
        {
            "form": form,
            "rows": [_row(s) for s in window],
            "older_url": older,
            "export_since": export_since,
            "can_export": request.user.has_perm("moderation.export_statements"),
        },
        nav="statements",
    )


def _words(value: object, *prefixes: str) -> str:
    text = str(value)
    for prefix in prefixes:
        text = text.removeprefix(prefix)
    text = text.replace("_", " ").lower()
    return text[:1].upper() + text[1:]


def _row(statement: StatementOfReasons) -> dict[str, Any]:
    p = statement.payload
    restrictions: list[str] = []
    for key in ("decision_visibility", "decision_provision", "decision_account"):
        values = p.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            restrictions.append(
                _words(value, "DECISION_VISIBILITY_", "DECISION_PROVISION_", "DECISION_ACCOUNT_")
            )
    ends = [p.get(k) for k in sorted(p) if k.startswith("end_date_") and p.get(k)]
    return {
        "s": statement,
        "category": category_label(str(p.get("category", ""))),
        "ground": _words(p.get("decision_ground", ""), "DECISION_GROUND_"),
        "restrictions": restrictions,
        "end": min(ends) if ends else "",
        "pretty": json.dumps(p, indent=1, ensure_ascii=False, sort_keys=True),
    }


@require_GET
@staff_view("moderation.view_statementofreasons", "moderation.export_statements")
def statement_export(request: HttpRequest) -> HttpResponse:
    """Download statements created since a date, as the export command writes them."""
    raw = request.GET.get("since", "")
    try:
        since = statements.parse_since(raw)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")

    def lines() -> Iterator[str]:
        for batch in statements.batches(since):
            yield json.dumps(batch, ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = (
        f'attachment; filename="statements-since-{since.date().isoformat()}.jsonl"'
    )
    return response
