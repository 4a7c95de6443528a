"""The DSA Transparency Database's statement API, as a client (issue 12.4; DSA art. 24(5)).

The documented contract (the database's "API and Schema" page and its source,
github.com/digital-services-act/transparency-database, read when this was written; D20):

- `POST <base>/api/v1/statements` with `Authorization: Bearer <token>`, `Accept` and
  `Content-Type: application/json`, body `{"statements": [...]}` of 1 to 100 statements.
- `201 Created`: every statement of the call was created; the body is `{"statements": [...]}`, each
  with its `puid` and the database's `uuid`. Anything but 201 means *nothing* was created.
- `422` with `{"errors": {"statement_<i>": {field: [messages]}}}`: the statements at those positions
  are invalid, and NONE of the call was created; the call must be fixed and sent again.
- `422` with `{"errors": {"puid": [...], "existing_puids": [...]}}`: those puids are already in the
  database (or repeated in the call); again nothing of the call was created.
- `401`: the token is not valid; `403`: the account may not create statements.
- `5xx`: the database's trouble (they are notified); `429` is what its throttle answers.

This module only speaks HTTP and reads answers into an `Answer`; what to do with each statement is
`statement_submission.py`'s job. It never raises for network trouble: a timeout or a refused
connection is an `Answer` too, so that the caller can schedule a retry and lose nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from safety_portal.core import clock

PATH = "/api/v1/statements"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # 100 statements echoed back stay well below this
_INDEXED = re.compile(r"^statement_(\d+)$")


class Kind(enum.Enum):
    CREATED = "created"  # 2xx: every statement of the call is in the database
    DUPLICATES = "duplicates"  # 422 naming puids already there; nothing created
    INVALID = "invalid"  # 422 naming statements by position; nothing created
    UNAUTHORISED = "unauthorised"  # 401 / 403: the token or the account is refused
    RATE_LIMITED = "rate_limited"  # 429
    UNAVAILABLE = "unavailable"  # 5xx, timeout, refused connection, garbled answer
    REFUSED = "refused"  # any other 4xx (a wrong URL, a 422 we cannot attribute)


@dataclass(frozen=True)
class Answer:
    """What one call came back with, read according to the documented contract."""

    kind: Kind
    status_code: int | None = None
    error: str = ""
    uuids: Mapping[str, str] = field(default_factory=dict)  # CREATED: puid -> uuid
    existing_puids: frozenset[str] = frozenset()  # DUPLICATES
    invalid: Mapping[int, str] = field(default_factory=dict)  # INVALID: position -> error text
    retry_after: dt.timedelta | None = None  # RATE_LIMITED (and 5xx) when the server said


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: str
    timeout: float

    @classmethod
    def configured(cls) -> Endpoint | None:
        """The configured database, or None when submission is off (TRANSPARENCY_DB_URL empty)."""
        base = getattr(settings, "TRANSPARENCY_DB_URL", "")
        if not base:
            return None
        return cls(
            url=base.rstrip("/") + PATH,
            token=getattr(settings, "TRANSPARENCY_DB_TOKEN", ""),
            timeout=float(getattr(settings, "TRANSPARENCY_DB_TIMEOUT_SECONDS", 30)),
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a place to go: the bearer token is for the configured host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


def post_statements(endpoint: Endpoint, statements: Sequence[Mapping[str, Any]]) -> Answer:
    """Send one batch (1 to 100 statements) once, and read the answer."""
    if not 1 <= len(statements) <= 100:
        raise ValueError("the multiple-statement endpoint takes 1 to 100 statements per call")
    body = json.dumps({"statements": list(statements)}, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (the URL is an http(s) setting, checked at start-up)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {endpoint.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "SafetyPortal-TransparencyDB/1",
        },
    )
    try:
        with _OPENER.open(request, timeout=endpoint.timeout) as response:
            return _read(response.status, response.headers, response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return _read(exc.code, exc.headers, exc.read(MAX_ANSWER_BYTES))
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        # Unreachable, refused, timed out, or cut off mid-answer: nothing is known to be created.
        reason = getattr(exc, "reason", exc)
        return Answer(Kind.UNAVAILABLE, error=f"{type(exc).__name__}: {reason}"[:500])


def _read(status: int, headers: Any, raw: bytes) -> Answer:
    data = _json(raw)
    if 200 <= status < 300:
        uuids: dict[str, str] = {}
        items = data.get("statements") if isinstance(data, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("puid"):
                uuids[str(item["puid"])] = str(item.get("uuid") or "")
        return Answer(Kind.CREATED, status_code=status, uuids=uuids)
    message = _message(data) or f"HTTP {status}"
    if status in (401, 403):
        return Answer(Kind.UNAUTHORISED, status_code=status, error=f"HTTP {status}: {message}")
    if status == 429:
        return Answer(
            Kind.RATE_LIMITED,
            status_code=status,
            error=f"HTTP 429: {message}",
            retry_after=retry_after(headers.get("Retry-After") if headers else None),
        )
    if status >= 500:
        return Answer(
            Kind.UNAVAILABLE,
            status_code=status,
            error=f"HTTP {status}: {message}"[:500],
            retry_after=retry_after(headers.get("Retry-After") if headers else None),
        )
    errors = data.get("errors") if isinstance(data, dict) else None
    if status == 422 and isinstance(errors, dict):
        existing = errors.get("existing_puids")
        if isinstance(existing, list) and existing:
            return Answer(
                Kind.DUPLICATES,
                status_code=status,
                error=f"HTTP 422: {message}",
                existing_puids=frozenset(str(p) for p in existing),
            )
        invalid = {
            int(m.group(1)): field_errors(value)
            for key, value in errors.items()
            if (m := _INDEXED.match(str(key)))
        }
        if invalid:
            return Answer(Kind.INVALID, status_code=status, error="HTTP 422", invalid=invalid)
    return Answer(Kind.REFUSED, status_code=status, error=f"HTTP {status}: {message}"[:500])


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        return {}


def _message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"][:300]
    return ""


def field_errors(value: Any) -> str:
    """`{"decision_ground": ["The selected decision ground is invalid."]}` as one line of text."""
    if not isinstance(value, dict):
        return str(value)[:2000]
    parts = []
    for name, messages in sorted(value.items()):
        texts = messages if isinstance(messages, list) else [messages]
        parts.append(f"{name}: {' '.join(str(t) for t in texts)}")
    return "; ".join(parts)[:2000]


def retry_after(value: str | None, *, now: dt.datetime | None = None) -> dt.timedelta | None:
    """A `Retry-After` header (seconds, or an HTTP date) as a wait; None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    wait = moment - (now or clock.now())
    return max(wait, dt.timedelta(0))
