"""Counting without `COUNT(*)` over a million rows (issue 5: "no full-table COUNT(*) on large tables").

An unfiltered list reads PostgreSQL's own estimate (`pg_class.reltuples`, refreshed by autovacuum);
a filtered list counts at most `CAP + 1` rows (an index-bounded scan) and shows "more than CAP"
beyond that. Exact counts of huge result sets tell a moderator nothing they need, and cost a scan.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

CAP = 10_000


def estimated_rows(model: Any, *, using: str = "default") -> int | None:
    """PostgreSQL's row estimate for the model's table, or None (SQLite, never analysed)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # A partitioned table (the audit log, the messages: D32) has no rows of its own, and
        # autovacuum never analyses its parent: its estimate is the sum of its partitions'.
        cursor.execute(
            "SELECT CASE WHEN p.relkind = 'p' THEN ("
            " SELECT sum(c.reltuples) FILTER (WHERE c.reltuples >= 0) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = p.oid)"
            " ELSE p.reltuples END::bigint FROM pg_class p WHERE p.oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


def is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where.children and not query.distinct and not query.combinator


def capped_count(queryset: QuerySet, cap: int = CAP) -> int:
    """Exact up to `cap`, then `cap + 1` (meaning "more than cap")."""
    return queryset.order_by()[: cap + 1].count()


def smart_count(queryset: QuerySet, cap: int = CAP) -> tuple[int, bool]:
    """(count, exact): the estimate for an unfiltered large table, else a capped exact count."""
    if is_unfiltered(queryset):
        estimate = estimated_rows(queryset.model, using=queryset.db)
        if estimate is not None and estimate > cap:
            return estimate, False
    count = capped_count(queryset, cap)
    return (count, count <= cap)


class EstimatedCountPaginator(Paginator):
    """The admin's paginator for big tables (after healthchecks' hc/api/admin.py idea)."""

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        if isinstance(self.object_list, QuerySet):
            value, _exact = smart_count(self.object_list)
            return value
        return len(self.object_list)
