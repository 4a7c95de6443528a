"""Rendering a portal page: the navigation each role sees, then the page's own template.

The navigation shows only what the signed-in person's roles allow (the same permissions the views
check), so nobody is offered a page that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from accounts.roles import role_names as cached_role_names


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    perm: str | None


NAV: list[tuple[str, list[NavItem]]] = [
    (
        "Work",
        [
            NavItem("dashboard", "Dashboard", "portal:home", None),
            NavItem("queue", "Case queue", "portal:cases", "moderation.view_case"),
            NavItem("flags", "Flagged accounts", "portal:flags", "moderation.view_flag"),
            NavItem("appeals", "Appeals", "portal:appeals", "moderation.decide_appeal"),
            NavItem(
                "child_safety",
                "Child safety",
                "portal:child_safety",
                "moderation.view_childsafetyescalation",
            ),
            NavItem(
                "birthdates",
                "Birthdate requests",
                "portal:birthdate_requests",
                "accounts.view_birthdatechangerequest",
            ),
        ],
    ),
    (
        "Records",
        [
            NavItem("users", "Users", "portal:users", "accounts.view_user"),
            NavItem(
                "statements",
                "Statements of reasons",
                "portal:statements",
                "moderation.view_statementofreasons",
            ),
            NavItem(
                "statement_submissions",
                "Transparency Database",
                "portal:statement_submissions",
                "moderation.view_statementofreasons",
            ),
            NavItem(
                "transparency",
                "Transparency report",
                "portal:transparency",
                "moderation.export_statements",
            ),
            NavItem(
                "minimum_age",
                "Minimum-age sweep",
                "portal:minimum_age",
                "accounts.view_minimumagereview",
            ),
            NavItem("audit", "Audit log", "portal:audit_log", "audit.view_auditentry"),
        ],
    ),
    (
        "Account",
        [
            NavItem("security", "Second factor", "portal:security", None),
            NavItem("admin", "Administration", "admin:index", "accounts.manage_staff"),
        ],
    ),
]


def nav_for(request: HttpRequest, active: str) -> list[dict[str, Any]]:
    user = request.user
    sections = []
    for title, items in NAV:
        links = []
        for item in items:
            if item.perm and not user.has_perm(item.perm):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue  # that page is not built yet
            links.append({"label": item.label, "url": url, "active": item.key == active})
        if links:
            sections.append({"title": title, "links": links})
    return sections


def role_names(user: Any) -> list[str]:
    if not user.is_authenticated:
        return []
    return cached_role_names(user)


def page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    nav: str,
    status: int = 200,
) -> HttpResponse:
    ctx = dict(context or {})
    ctx.setdefault("nav_sections", nav_for(request, nav))
    ctx.setdefault("my_roles", role_names(request.user))
    ctx.setdefault("demo_mode", settings.DEBUG)
    return TemplateResponse(request, template, ctx, status=status)
