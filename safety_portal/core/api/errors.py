"""One error format for the whole API: `{"code", "detail", "fields"?}` (issue 6).

Domain exceptions (`safety_portal.core.errors`) carry their own code and status (400 invalid, 403
policy refusal with the POLICY.md §3 reason code, 403 not permitted, 409 conflict); REST framework's
own exceptions keep their standard codes (`not_authenticated`, `missing_scope`, `not_found`,
`throttled`, ...), and field errors are flattened to dotted paths (`participants.0`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from safety_portal.core.errors import DomainError, http_status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        out[prefix or "non_field_errors"] = [str(d) for d in detail]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:  # DRF puts {} for list items without errors
                out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def error_body(code: str, detail: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = dict(fields)
    return body


# REST framework's "parse_error" is the contract's "malformed" (issue 6: 400 malformed or invalid).
_RENAMED = {"parse_error": "malformed"}


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]. Anything not handled here is a bug and stays a 500."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=http_status(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = fields.pop("non_field_errors", None)
        detail = " ".join(general) if general else "The request has invalid fields."
        body = error_body("invalid", detail, fields)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        code = _RENAMED.get(str(code), code)
        body = error_body(str(code), str(exc.detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # an API path: no cookies, no sessions, so nothing for CSRF to protect
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path that matches no route: the same JSON error as every other 404."""
    return JsonResponse(error_body("not_found", "No API route matches this path."), status=404)
