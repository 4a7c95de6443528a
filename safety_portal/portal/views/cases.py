"""The case queue and the case workspace (issue 5, "Case workspace").

Everything that changes a case goes through `moderation`: `Case.objects.claim / claim_next /
release / take_over / escalate`, `CaseNote.objects.add` and `moderation.services.decide`, which
check the role, the claim and the rules and write the audit entries. Message bodies are read only
through `messaging.services.read_messages_for_staff`, with this case as the reason (audited), and
only when the moderator asks for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Restriction
from messaging.models import Message
from messaging.services import read_messages_for_staff
from moderation import services
from moderation.models import Case, CaseNote, Decision, Report, Strike
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError
from safety_portal.rules.grounds import GROUND_CHOICES

from .. import notice_preview
from .. import rows as row_html
from ..access import staff_view
from ..pages import page
from ..presentation import age_of, band_label, category_label
from ..presentation import decision_type_choices as _decision_type_choices

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


# --------------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------------


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
        open_ = case.status in ("open", "escalated")
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
        case = Case.objects.claim_next(request.user, queue=queue)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("portal:cases")
    if case is None:
        messages.info(request, "Nothing waiting in that queue. Well done.")
        return redirect("portal:cases")
    messages.success(request, f"You hold case #{case.pk} now.")
    return redirect("portal:case", case_id=case.pk)


# --------------------------------------------------------------------------------------------------
# The workspace
# --------------------------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    """The shape of a decision; `moderation.services.decide` checks every rule."""

    decision_type = forms.ChoiceField(label="Decision")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=rules.decisions.MAX_DAYS,
        label="Duration (days)",
        help_text=f"Moderators up to {rules.decisions.MODERATOR_MAX_DAYS} days; longer needs a senior.",
    )
    feature = forms.ChoiceField(
        required=False,
        label="Feature",
        choices=[
            ("", "—"),
            *[(f.value, f.value.replace("_", " ")) for f in rules.vocabulary.Feature],
        ],
    )
    ground = forms.ChoiceField(
        required=False, label="Policy ground", choices=[("", "—"), *GROUND_CHOICES]
    )
    explanation = forms.CharField(
        required=False,
        label="Explanation to the user",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain words; no personal data. It appears in the notice and the statement.",
    )
    facts = forms.CharField(
        label="Facts relied on",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published in the statement of reasons: no names, no message quotes.",
    )
    remove_reported_message = forms.BooleanField(
        required=False, label="Remove the reported message"
    )
    lock_thread = forms.BooleanField(required=False, label="Lock the conversation")

    def __init__(self, *args: Any, user: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision_type"].choices = _decision_type_choices(user)
        if case.subject_message_id is None:
            del self.fields["remove_reported_message"]
        if case.subject_thread_id is None:
            del self.fields["lock_thread"]


# Which fields each decision type uses (the page hides the others when JavaScript runs).
SHOW_FOR = {
    "days": "restrict_feature suspend",
    "feature": "restrict_feature",
    "ground": " ".join(
        t.value for t in rules.decisions.RESTRICTING | {rules.decisions.DecisionType.WARN}
    ),
    "explanation": " ".join(
        t.value for t in rules.decisions.RESTRICTING | {rules.decisions.DecisionType.WARN}
    ),
    "remove_reported_message": "remove_messages",
    "lock_thread": " ".join(t.value for t in rules.decisions.RESTRICTING),
}


def _case_or_404(case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.select_related("subject_user", "claimed_by", "subject_thread"), pk=case_id
    )


def _case_entries(case: Case) -> list[AuditEntry]:
    """Audit entries about the case and about the decisions taken on it (newest 50)."""
    decision_ids = [
        str(pk) for pk in Decision.objects.filter(case=case).values_list("pk", flat=True)
    ]
    where = Q(target_type=case._meta.label_lower, target_id=str(case.pk))
    if decision_ids:
        where |= Q(target_type=Decision._meta.label_lower, target_id__in=decision_ids)
    return list(AuditEntry.objects.filter(where).order_by("-seq")[:50])


def _timeline(case: Case) -> list[dict[str, Any]]:
    notes = [
        {"kind": "note", "at": n.created_at, "who": n.author.username, "text": n.body}
        for n in CaseNote.objects.filter(case=case).select_related("author")
    ]
    events = [
        {
            "kind": "decision" if e.action.startswith("moderation.decision") else "event",
            "at": e.created_at,
            "who": e.actor_label,
            "text": " ".join(e.action.split(".")[1:]).replace("_", " "),
            "reason": e.reason,
        }
        for e in _case_entries(case)
    ]
    opened = {"kind": "event", "at": case.opened_at, "who": "", "text": "case opened", "reason": ""}
    return sorted([opened, *notes, *events], key=lambda item: item["at"])


def workspace_context(
    request: HttpRequest, case: Case, *, form: DecisionForm | None = None
) -> dict[str, Any]:
    user = request.user
    now = clock.now()
    subject = case.subject_user
    holder_is_me = case.claimed_by_id == user.pk and (
        case.claim_expires_at is not None and case.claim_expires_at > now
    )
    held_by_other = (
        case.claimed_by_id is not None
        and case.claimed_by_id != user.pk
        and case.claim_expires_at is not None
        and case.claim_expires_at > now
    )
    is_open = case.status in ("open", "escalated")
    may_decide = user.has_perm(rules.decisions.PERM_DECIDE) and (
        case.status != "escalated" or user.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
    )
    ctx: dict[str, Any] = {
        "case": case,
        "band": band_label(case.priority),
        "now": now,
        "overdue": is_open and case.due_at <= now,
        "is_open": is_open,
        "holder_is_me": holder_is_me,
        "held_by_other": held_by_other,
        "can_claim": is_open and user.has_perm(rules.decisions.PERM_CLAIM) and not held_by_other,
        "can_take_over": is_open
        and held_by_other
        and user.has_perm(rules.decisions.PERM_TAKE_OVER),
        "can_escalate": is_open
        and holder_is_me
        and case.status == "open"
        and user.has_perm(rules.decisions.PERM_ESCALATE),
        "can_note": is_open and user.has_perm(rules.decisions.PERM_NOTE),
        "can_read_bodies": user.has_perm("messaging.read_message_body"),
        "show_decision_form": is_open and holder_is_me and may_decide,
        "may_decide": may_decide,
        "category": category_label(case.category),
        "reports": [
            {"r": r, "category": category_label(r.category)}
            for r in Report.objects.filter(case=case)
            .select_related("reporter", "trusted_flagger")
            .order_by("created_at", "id")[:100]
        ],
        "timeline": _timeline(case),
        "decisions": list(
            Decision.objects.filter(case=case).select_related("decided_by").order_by("decided_at")
        ),
    }
    if case.subject_message_id is not None:
        ctx["reported_message"] = (
            Message.objects.without_bodies()
            .select_related("sender")
            .filter(pk=case.subject_message_id)
            .first()
        )
    if subject is not None:
        ctx.update(_subject_context(subject, case, now=now, user=user))
    if ctx["show_decision_form"]:
        ctx["form"] = form or DecisionForm(user=user, case=case)
        ctx["show_for"] = SHOW_FOR
    return ctx


def _subject_context(subject: Any, case: Case, *, now: dt.datetime, user: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "subject_age": age_of(subject, on=clock.today())
        if user.has_perm("accounts.view_age")
        else None,
        "account_days": (now - subject.date_joined).days,
        "restrictions": list(
            Restriction.objects.active(at=now).filter(user=subject).order_by("ends_at")
        ),
        "strikes": Strike.objects.count_active(subject, at=now),
        "prior_cases": list(
            Case.objects.filter(subject_user=subject).exclude(pk=case.pk).order_by("-opened_at")[:8]
        ),
        "prior_decisions": list(
            Decision.objects.for_user(subject)
            .exclude(case=case)
            .select_related("decided_by")
            .order_by("-decided_at")[:8]
        ),
    }


@require_GET
@staff_view("moderation.view_case")
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return page(request, "portal/case.html", workspace_context(request, case), nav="queue")


@require_GET
@staff_view("moderation.view_case", "messaging.read_message_body")
def case_thread(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reported content in context. Reading bodies is audited with this case as the reason."""
    case = _case_or_404(case_id)
    ctx = workspace_context(request, case)
    if case.subject_thread_id is not None:
        thread_messages = read_messages_for_staff(
            actor=request.user, thread=case.subject_thread, case=case, reason=""
        )
    elif case.subject_user_id is not None:
        thread_messages = read_messages_for_staff(
            actor=request.user, user=case.subject_user, case=case, reason=""
        )
    else:
        thread_messages = []
    ctx["thread_messages"] = list(reversed(thread_messages))  # oldest first, like a chat
    ctx["thread_opened"] = True
    return page(request, "portal/case.html", ctx, nav="queue")


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
        lambda: Case.objects.claim(case, moderator=request.user),
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
            case, moderator=request.user, reason=request.POST.get("reason", "")
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
            case, moderator=request.user, reason=request.POST.get("reason", "")
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
        lambda: CaseNote.objects.add(case, author=request.user, body=request.POST.get("body", "")),
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
                preview = notice_preview.render(case, moderator=request.user, **arguments)
                ctx_status = 200
            except DomainError as exc:
                _errors_into(form, exc)
        else:
            try:
                decision = services.decide(case, moderator=request.user, **arguments)
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
