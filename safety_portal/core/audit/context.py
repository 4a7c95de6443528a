"""Per-request facts (request id, client IP) that audit entries carry.

Kept in context variables, which live for one request or task only: no state survives between
requests, so any web process can serve any request.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ip", default=None)
# The request itself, so that log lines can name who is acting once authentication has run
# (safety_portal.core.logs); never read for anything else.
request_var: contextvars.ContextVar[object | None] = contextvars.ContextVar("request", default=None)


@contextmanager
def request_context(
    *, request_id: str, ip: str | None, request: object | None = None
) -> Iterator[None]:
    t1 = request_id_var.set(request_id)
    t2 = ip_var.set(ip)
    t3 = request_var.set(request)
    try:
        yield
    finally:
        request_id_var.reset(t1)
        ip_var.reset(t2)
        request_var.reset(t3)
