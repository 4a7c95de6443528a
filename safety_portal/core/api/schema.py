"""OpenAPI pieces shared by every API view: the error body, standard error responses, Bearer auth.

`api_doc(...)` wraps drf-spectacular's `extend_schema` so that every operation documents the error
statuses it can really return, with the one error body of `errors.py`, and names its scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable machine-readable code: invalid, malformed, not_authenticated, "
        "authentication_failed, missing_scope, not_found, conflict codes, throttled, "
        "request_too_large, unsupported_media_type, or a POLICY.md reason code such as "
        "dm_not_friends or under_minimum_age."
    )
    detail = serializers.CharField(help_text="A sentence for the humans reading logs.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors by dotted path (participants.0), for 400 invalid input.",
    )


_ERRORS: dict[int, str] = {
    400: "Malformed JSON (code malformed) or invalid fields (code invalid, with fields).",
    401: "No token, an unknown token, or a revoked client.",
    403: "The client lacks the scope (missing_scope), or a policy refused the action "
    "(its POLICY.md reason code).",
    404: "No such object, or one this client may not see.",
    409: "The request conflicts with the current state.",
    413: "The body is larger than the limit (request_too_large).",
    415: "The body is not application/json (unsupported_media_type).",
    429: "Too many requests for this client (throttled); see Retry-After.",
}


def error_responses(statuses: Iterable[int]) -> dict[int, OpenApiResponse]:
    return {s: OpenApiResponse(ErrorSerializer, description=_ERRORS[s]) for s in sorted(statuses)}


def idempotency_key_parameter(description: str) -> OpenApiParameter:
    """The required `Idempotency-Key` header of a write that may be retried (`idempotency.py`)."""
    return OpenApiParameter(
        "Idempotency-Key",
        str,
        location=OpenApiParameter.HEADER,
        required=True,
        description=description,
    )


def api_doc(
    *,
    summary: str,
    scope: str | None,
    responses: Mapping[int, Any],
    request: Any = None,
    errors: Iterable[int] = (),
    writes: bool = False,
    description: str = "",
    parameters: list[Any] | None = None,
    tags: list[str] | None = None,
    operation_id: str | None = None,
    examples: list[Any] | None = None,
) -> Any:
    """`extend_schema` with the standard errors: 401/403/429 always, 400/413/415 for writes."""
    statuses = {401, 403, 429} | ({400, 413, 415} if writes else set()) | set(errors)
    full: dict[int, Any] = dict(responses)
    for status, response in error_responses(statuses).items():
        full.setdefault(status, response)
    needs = f"Scope: `{scope}`." if scope else "Any authenticated client."
    kwargs: dict[str, Any] = {
        "summary": summary,
        "description": f"{description}\n\n{needs}".strip(),
        "responses": full,
        "parameters": parameters,
        "tags": tags,
        "operation_id": operation_id,
        "examples": examples,
    }
    if request is not None:
        kwargs["request"] = request
    return extend_schema(**kwargs)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "safety_portal.core.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A client token from `manage.py create_api_client` (spk_...).",
        }


class BodyOnDeleteSchema(AutoSchema):
    """Document a JSON body on DELETE (DELETE follows/ names the pair it ends in its body)."""

    def _get_request_body(self, direction: str = "request") -> Any:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


def add_error_headers(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: document Retry-After on 429 and WWW-Authenticate on 401."""
    headers = {
        "429": {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Seconds until the client may send again.",
            }
        },
        "401": {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": 'The challenge: Bearer realm="safety-portal".',
            }
        },
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for status, extra in headers.items():
                response = operation.get("responses", {}).get(status)
                if response is not None:
                    response.setdefault("headers", {}).update(extra)
    return result
