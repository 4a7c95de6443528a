"""Give every request an id (the load balancer's X-Request-ID when it sent a sane one) and an IP.

Audit entries written while the request runs carry both (issue 2). Header values are client input:
an id that is not short and plain is replaced by a fresh one, and an address that does not parse is
dropped, so a forged header can neither smuggle text into the log nor make audited writes fail.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import request_context

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client address; behind TRUSTED_PROXY_COUNT proxies, read it from X-Forwarded-For.

    Each trusted proxy appends the address it received the request from, so the client is the
    entry `TRUSTED_PROXY_COUNT` places from the right; anything further left is client-supplied.
    """
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= hops and forwarded[-hops]:
            return _valid_ip(forwarded[-hops])
    return _valid_ip(request.META.get("REMOTE_ADDR"))


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_context(request_id=request_id, ip=client_ip(request), request=request):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
