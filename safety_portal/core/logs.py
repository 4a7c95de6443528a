"""Log lines a fleet can search (issue 14.3): JSON, one object per line, each naming its request
and who was acting, and never carrying what a log must not hold.

`RequestFields` adds `request_id`, `actor_kind` and `actor_id` to every record (empty outside a
request). The actor is read only once authentication has already resolved it (the session's lazy
user, or the API client DRF set): a log line never triggers a query of its own. `JsonLines` is
python-json-logger's formatter with one rule on top: any field whose name says it is a birthdate,
a message body, a token, a password, a secret or an authorization header is replaced by
"[redacted]", wherever the value came from (`extra=`, an exception's locals never reach it).
The demo logs plain text with the same fields (`LOG_FORMAT`, settings).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.json import JsonFormatter

from .audit.context import request_id_var, request_var

REDACTED = "[redacted]"
_NEVER_LOGGED = re.compile(
    r"birth|body|token|password|passwd|secret|authorization|cookie|otp", re.IGNORECASE
)


def _resolved_actor(request: object) -> tuple[str, str]:
    user = getattr(request, "__dict__", {}).get("user")
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped  # only a user that authentication has already loaded
        if user is empty:
            return "", ""
    identity = getattr(user, "audit_identity", None)
    if not callable(identity) or not getattr(user, "is_authenticated", False):
        return "", ""
    found = identity()
    return found.kind, found.id


class RequestFields(logging.Filter):
    """Django logs a 4xx/5xx after the middleware has returned, passing the request itself
    (`record.request`): that request is used first, the one of the running request after."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None) or request_var.get()
        record.request_id = getattr(request, "request_id", "") or request_id_var.get()
        record.actor_kind, record.actor_id = (
            ("", "") if request is None else _resolved_actor(request)
        )
        return True


class JsonLines(JsonFormatter):
    def process_log_record(self, log_record: dict[str, Any]) -> dict[str, Any]:
        # The request object itself is not logged: its text is the full path, query string
        # included, which may hold a one-time token.
        return {
            key: REDACTED if _NEVER_LOGGED.search(key) else value
            for key, value in log_record.items()
            if key != "request"
        }
