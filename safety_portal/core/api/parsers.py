"""JSON-only request parsing with a size limit (issue 6: 413 too large, 415 not JSON).

`API_MAX_REQUEST_BYTES` (default 64 KiB) bounds the body; the limit is checked against
Content-Length before reading, and again while reading (a client can lie or stream chunked).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from .errors import RequestTooLarge


def max_request_bytes() -> int:
    return int(getattr(settings, "API_MAX_REQUEST_BYTES", 64 * 1024))


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = max_request_bytes()
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            codecs.lookup(encoding)
            text = raw.decode(encoding)
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, LookupError, RecursionError) as exc:
            # UnicodeDecodeError and JSONDecodeError are ValueErrors; RecursionError is absurd
            # nesting. All are the client's malformed input, never a server error.
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}"[:300]) from exc
