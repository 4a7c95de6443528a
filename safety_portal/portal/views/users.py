"""Users: a fast searchable list and a person's page in context (issue 5).

Staff see the age tier and the age in years, never the exact birthdate, unless their role holds
`moderation.view_exact_birthdate` and they ask for it with a reason (audited; see disclosure.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from accounts.choices import STATUS_CHOICES
from accounts.models import BirthdateChangeRequest, GuardianLink, LegalHold, Restriction, User
from moderation.models import Case
from safety_portal.core import clock
from safety_portal.core.errors import DomainError
from safety_portal.core.paginator import estimated_rows

from .. import disclosure
from .. import rows as row_html
from ..access import staff_view
from ..pages import page
from ..presentation import age_of

PAGE_SIZE = 50


class UserFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Username or external id")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *STATUS_CHOICES])
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "App users and staff"), ("app", "App users"), ("staff", "Staff")],
        label="Accounts",
    )


@require_GET
@staff_view("accounts.view_user")
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = User.objects.only(
        "id",
        "username",
        "external_id",
        "country",
        "status",
        "birthdate",
        "is_staff",
        "date_joined",
    )
    q = (data.get("q") or "").strip()
    if q:
        # Exact external id, or a username prefix: both served by unique btree indexes.
        qs = qs.filter(external_id=q) | qs.filter(username__startswith=q)
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("kind") == "staff":
        qs = qs.filter(is_staff=True)
    elif data.get("kind") == "app":
        qs = qs.filter(is_staff=False)
    before = _int(request.GET.get("before"))
    if before is not None:
        qs = qs.filter(pk__lt=before)
    window = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(window) > PAGE_SIZE
    window = window[:PAGE_SIZE]
    today = clock.today()
    show_age = request.user.has_perm("accounts.view_age")
    rows = [{"user": u, "age": age_of(u, on=today) if show_age else None} for u in window]
    query = request.GET.copy()
    query.pop("before", None)
    if more and window:
        query["before"] = str(window[-1].pk)
    filtered = bool(q or data.get("status") or data.get("kind"))
    return page(
        request,
        "portal/users.html",
        {
            "form": form,
            "rows": rows,
            "rows_html": row_html.user_rows(rows, show_age=show_age),
            "show_age": show_age,
            "older_url": f"?{query.urlencode()}" if more and window else "",
            "first_url": "?" + _without(request.GET, "before") if before is not None else "",
            "estimated_total": None if filtered else estimated_rows(User),
        },
        nav="users",
    )


def _without(query: Any, key: str) -> str:
    q = query.copy()
    q.pop(key, None)
    return q.urlencode()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _context(user: User, request: HttpRequest) -> dict[str, Any]:
    now = clock.now()
    today = clock.today()
    ctx: dict[str, Any] = {
        "subject": user,
        "age": age_of(user, on=today) if request.user.has_perm("accounts.view_age") else None,
        "account_days": (now - user.date_joined).days,
        "restrictions": list(
            Restriction.objects.active(at=now).filter(user=user).order_by("ends_at")
        ),
        "past_restrictions": list(
            Restriction.objects.filter(user=user)
            .exclude(pk__in=Restriction.objects.active(at=now).filter(user=user).values("pk"))
            .order_by("-starts_at")[:10]
        ),
        "birthdate_requests": list(
            BirthdateChangeRequest.objects.filter(user=user).order_by("-created_at")[:10]
        ),
        "guardian_links": list(
            GuardianLink.objects.involving(user).select_related("guardian", "teen")[:10]
        ),
        "can_reveal": request.user.has_perm(disclosure.PERM_EXACT_BIRTHDATE)
        and user.birthdate is not None,
        # Visible to everyone who may see the account (issue 12.6): nobody should wonder why a
        # closure or an erasure request does not go through. The case itself stays the team's.
        "legal_hold": LegalHold.objects.is_held(user.pk),
    }
    ctx.update(_moderation_context(user))
    return ctx


def _moderation_context(user: User) -> dict[str, Any]:
    """Cases and strikes of the person, from the moderation app's read vocabulary."""
    return {"cases": list(Case.objects.filter(subject_user=user).order_by("-pk")[:10])}


@require_GET
@staff_view("accounts.view_user")
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    return page(request, "portal/user_detail.html", _context(user, request), nav="users")


@require_POST
@staff_view("accounts.view_user", disclosure.PERM_EXACT_BIRTHDATE)
def reveal_birthdate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    ctx = _context(user, request)
    try:
        ctx["exact_birthdate"] = disclosure.reveal_birthdate(
            user, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        ctx["reveal_error"] = exc.detail
        return page(request, "portal/user_detail.html", ctx, nav="users", status=exc.status_code)
    return page(request, "portal/user_detail.html", ctx, nav="users")
