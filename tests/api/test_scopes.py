"""Every endpoint and scope: the scope it needs lets the request through, every other scope set
is refused with 403 missing_scope, no token is 401 (issue 6). The table is checked against the URL
resolver so that a new endpoint cannot be left out."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from safety_portal.core.api.scopes import ALL_SCOPES

from .conftest import app_user

pytestmark = pytest.mark.django_db

# method, path ({user} is replaced by a real app user's id), body, scope, status when allowed
ENDPOINTS = [
    ("GET", "/api/v1/users/", None, "users:read", 200),
    ("POST", "/api/v1/users/", {}, "users:write", 400),
    ("GET", "/api/v1/users/{user}/", None, "users:read", 200),
    ("GET", "/api/v1/users/{user}/capabilities/", None, "users:read", 200),
    ("PATCH", "/api/v1/users/{user}/settings/", {"dm_setting": "nobody"}, "users:write", 200),
    ("POST", "/api/v1/users/{user}/birthdate-change-requests/", {}, "users:write", 400),
    ("POST", "/api/v1/users/{user}/re-registration-signals/", {}, "users:write", 400),
    ("GET", "/api/v1/users/{user}/assurance-results/", None, "assurance:read", 200),
    ("POST", "/api/v1/users/{user}/assurance-results/", {}, "assurance:write", 400),
    ("POST", "/api/v1/follows/", {}, "social:write", 400),
    ("DELETE", "/api/v1/follows/", {}, "social:write", 400),
    ("POST", "/api/v1/blocks/", {}, "social:write", 400),
    ("POST", "/api/v1/threads/", {}, "messages:write", 400),
    ("POST", "/api/v1/threads/999999/participants/", {}, "messages:write", 404),
    ("POST", "/api/v1/threads/999999/invites/", {}, "messages:write", 404),
    ("POST", "/api/v1/group-invites/999999/accept/", {}, "messages:write", 404),
    ("POST", "/api/v1/group-invites/999999/decline/", {}, "messages:write", 404),
    ("POST", "/api/v1/threads/999999/messages/", {}, "messages:write", 404),
    ("GET", "/api/v1/threads/999999/messages/", None, "messages:read", 404),
    ("POST", "/api/v1/reports/", {}, "reports:write", 400),
    ("GET", "/api/v1/reports/", None, "reports:read", 400),
    ("GET", "/api/v1/reports/receipts/999999/", None, "reports:write", 404),
    ("POST", "/api/v1/appeals/", {}, "appeals:write", 400),
    ("GET", "/api/v1/appeals/999999/", None, "appeals:read", 404),
    ("GET", "/api/v1/users/{user}/notices/", None, "notices:read", 200),
    (
        "PATCH",
        "/api/v1/users/{user}/notices/account-999999/",
        {"state": "read"},
        "notices:write",
        404,
    ),
    ("GET", "/api/v1/cases/", None, "cases:read", 200),
    ("GET", "/api/v1/cases/999999/", None, "cases:read", 404),
    ("POST", "/api/v1/cases/999999/decisions/", {}, "decisions:write", 404),
    ("GET", "/api/v1/statements-of-reasons/", None, "sor:read", 200),
    ("GET", "/api/v1/audit-log/", None, "audit:read", 200),
    ("GET", "/api/v1/whoami/", None, None, 200),
]
IDS = [f"{m} {p}" for m, p, *_ in ENDPOINTS]


def _call(http: APIClient, method: str, path: str, body: object) -> object:
    path = path.replace("{user}", str(app_user(30).pk)) if "{user}" in path else path
    return http.generic(
        method,
        path,
        data=None if body is None else json.dumps(body),
        content_type="application/json",
    )


@pytest.mark.parametrize(("method", "path", "body", "scope", "allowed"), ENDPOINTS, ids=IDS)
def test_the_needed_scope_lets_the_request_through(make_caller, method, path, body, scope, allowed):
    caller = make_caller([scope] if scope else [])
    response = _call(caller.http, method, path, body)
    assert response.status_code == allowed, response.content


@pytest.mark.parametrize(("method", "path", "body", "scope", "allowed"), ENDPOINTS, ids=IDS)
def test_every_other_scope_is_refused_with_403(make_caller, method, path, body, scope, allowed):
    if scope is None:
        pytest.skip("whoami needs no scope: any authenticated client may call it")
    caller = make_caller([s for s in ALL_SCOPES if s != scope])
    response = _call(caller.http, method, path, body)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "missing_scope"


@pytest.mark.parametrize(("method", "path", "body", "scope", "allowed"), ENDPOINTS, ids=IDS)
def test_no_token_is_refused_with_401(method, path, body, scope, allowed):
    response = _call(APIClient(), method, path, body)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def _routes(patterns: list, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.add(prefix + str(entry.pattern))
    return found


def test_the_table_covers_every_api_route():
    from safety_portal.api_urls import v1

    routes = {"/api/v1/" + re.sub(r"<(int|str):\w+>", "N", r) for r in _routes(v1)}
    tabled = {re.sub(r"\{user\}|999999|account-999999", "N", p) for _, p, *_ in ENDPOINTS}
    assert routes == tabled
