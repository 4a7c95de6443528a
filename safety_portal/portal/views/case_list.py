"""The case list and "claim next": the queue a moderator works, filtered and paged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from moderation.models import Case
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import DomainError

from .. import rows as row_html
from ..access import staff_view
from ..pages import page
from ..presentation import age_of, band_label, category_label

PAGE_SIZE = 50


MAX_PAGES = 200


VIEWS = [
    ("queue", "Queue"),
    ("mine", "My cases"),
    ("open", "All open"),
    ("overdue", "Overdue"),
    ("minors", "Involving minors"),
    ("decided", "Decided"),
]


def cases_for(view: str, queue: str, *, user: Any, at: dt.datetime) -> QuerySet[Case]:
    """The cases a list view shows, in the order a moderator works them (moderation's vocabulary)."""
    if view == "mine":
        qs = Case.objects.claimed_by(user, at=at).order_by("due_at", "id")
    elif view == "open":
        qs = Case.objects.open().order_by("-priority_score", "due_at", "id")
    elif view == "overdue":
        qs = Case.objects.overdue(at=at).order_by("due_at", "id")
    elif view == "minors":
        qs = Case.objects.open().involving_minors().order_by("-priority_score", "due_at", "id")
    elif view == "decided":
        qs = Case.objects.decided().order_by("-decided_at", "-id")
    else:
        qs = Case.objects.for_queue(queue, moderator=user, at=at)
    return qs.select_related("subject_user", "claimed_by").only(*LIST_FIELDS)


# What a list row shows: fetching only these keeps a page of fifty rows cheap at any table size.
LIST_FIELDS = (
    "id",
    "subject_type",
    "status",
    "category",
    "involves_minor",
    "trusted_flagger",
    "report_count",
    "priority",
    "priority_score",
    "opened_at",
    "due_at",
    "decided_at",
    "claimed_by_id",
    "claim_expires_at",
    "subject_user__username",
    "subject_user__birthdate",
    "claimed_by__username",
)


@dataclass
class CaseRow:
    case: Case
    band: str
    overdue: bool
    due_soon: bool
    age: Any
    category: str


def case_rows(cases: list[Case], *, at: dt.datetime, show_age: bool) -> list[CaseRow]:
    today = clock.today()
    rows = []
    for case in cases:
        open_ = case.is_open
        rows.append(
            CaseRow(
                case=case,
                band=band_label(case.priority),
                overdue=open_ and case.due_at <= at,
                due_soon=open_ and at < case.due_at <= at + dt.timedelta(hours=1),
                age=age_of(case.subject_user, on=today) if show_age else None,
                category=category_label(case.category),
            )
        )
    return rows


@require_GET
@staff_view("moderation.view_case")
def case_list(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "queue")
    if view not in dict(VIEWS):
        view = "queue"
    queue = request.GET.get("queue", Case.Queue.ALL)
    if queue not in Case.Queue.values:
        queue = Case.Queue.ALL
    page_no = min(max(_int(request.GET.get("page")) or 1, 1), MAX_PAGES)
    now = clock.now()
    qs = cases_for(view, queue, user=request.user, at=now)
    start = (page_no - 1) * PAGE_SIZE
    window = list(qs[start : start + PAGE_SIZE + 1])
    more = len(window) > PAGE_SIZE
    rows = case_rows(
        window[:PAGE_SIZE], at=now, show_age=request.user.has_perm("accounts.view_age")
    )
    base = request.GET.copy()
    base.pop("page", None)
    queues = [
        (value, label)
        for value, label in Case.Queue.choices
        if value != Case.Queue.SENIOR or request.user.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
    ]
    return page(
        request,
        "portal/case_list.html",
        {
            "rows": rows,
            "rows_html": row_html.case_rows(rows, now=now, decided=view == "decided"),
            "view": view,
            "views": VIEWS,
            "queue": queue,
            "queues": queues,
            "page_no": page_no,
            "next_url": f"?{_with(base, page=page_no + 1)}" if more and page_no < MAX_PAGES else "",
            "prev_url": f"?{_with(base, page=page_no - 1)}" if page_no > 1 else "",
            "can_claim": request.user.has_perm(rules.decisions.PERM_CLAIM),
            "now": now,
        },
        nav="queue",
    )


@require_POST
@staff_view("moderation.view_case", rules.decisions.PERM_CLAIM)
def claim_next(request: HttpRequest) -> HttpResponse:
    queue = request.POST.get("queue", Case.Queue.ALL)
    if queue not in Case.Queue.values:
        queue = Case.Queue.ALL
    try:
        case = Case.objects.claim_next(actor=request.user, queue=queue)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("portal:cases")
    if case is None:
        messages.info(request, "Nothing waiting in that queue. Well done.")
        return redirect("portal:cases")
    messages.success(request, f"You hold case #{case.pk} now.")
    return redirect("portal:case", case_id=case.pk)


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
