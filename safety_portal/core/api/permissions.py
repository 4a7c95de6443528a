"""Scope checks: each view names the scope every HTTP method needs (issue 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .models import ApiClient

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"


class HasScope(BasePermission):
    """The request comes from an active client holding the scope `view.scopes[method]`.

    A view lists its scopes as `scopes = {"GET": "users:read", "POST": "users:write"}` (None: any
    authenticated client); a method missing from the mapping is refused with 405 (fail closed).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            raise exceptions.NotAuthenticated()
        scopes: dict[str, str | None] = getattr(view, "scopes", {})
        if request.method not in scopes:
            # Also OPTIONS: the OpenAPI schema at /api/schema/ is the description of every route.
            raise exceptions.MethodNotAllowed(request.method)
        needed = scopes[request.method]
        if needed is None or client.has_scope(needed):
            return True
        raise MissingScope(f"This request needs the scope {needed}.")
