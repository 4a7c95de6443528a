"""Cursor pagination for every list (stable under inserts; no COUNT(*) on large tables)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"

    def decode_cursor(self, request):  # type: ignore[no-untyped-def]
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:  # DRF answers 404 for a bad cursor; it is bad input
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["Invalid cursor."]}
            ) from exc


class OldestFirstCursorPagination(ApiCursorPagination):
    ordering = "id"


class NewestFirstCursorPagination(ApiCursorPagination):
    """For rows ordered by their own time (messages, audit entries, cases by opening)."""

    ordering = ("-created_at", "-id")


class AuditCursorPagination(ApiCursorPagination):
    """Newest first by id: an entry is listed from its commit, before the chainer gives it a seq
    (D23)."""

    ordering = "-id"


class StatementsPagination(ApiCursorPagination):
    """Statements of reasons as `{"statements": [...], "next": url}`, at most 100 per answer
    (the Transparency Database's batch limit), oldest first."""

    page_size = 100
    max_page_size = 100
    ordering = ("created_at", "id")

    def get_paginated_response(self, data):  # type: ignore[no-untyped-def]
        from rest_framework.response import Response

        return Response({"statements": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):  # type: ignore[no-untyped-def]
        return {
            "type": "object",
            "required": ["statements", "next"],
            "properties": {
                "statements": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
            },
        }
