"""`Authorization: Bearer <token>` for API clients (issue 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from .models import ApiClient

if TYPE_CHECKING:
    from rest_framework.request import Request


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates an `ApiClient`; a missing header leaves the request anonymous (→ 401)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiClient] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
            raise exceptions.AuthenticationFailed(
                "Use the header Authorization: Bearer <token>.", code="authentication_failed"
            )
        client = ApiClient.objects.authenticate(token.strip())
        if client is None:
            raise exceptions.AuthenticationFailed(
                "The token is unknown or its client has been revoked.",
                code="authentication_failed",
            )
        return client, client

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, with this challenge.
        return 'Bearer realm="safety-portal"'
