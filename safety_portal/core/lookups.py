"""`AnyOf`: "column is one of these ids" as one array parameter on PostgreSQL.

`filter(pk__in=ids)` with a thousand ids builds a thousand placeholders: Django compiles each, psycopg
binds each, and PostgreSQL parses and plans a thousand-item list, several milliseconds a statement.
Batched jobs (the minimum-age sweep's status UPDATE and thread locks, a thousand accounts a batch)
pay that on every batch. `col = ANY(%s::bigint[])` sends the list as one value. Other databases
(SQLite in the demo) get the plain IN list.

Used as an expression: `queryset.filter(AnyOf(F("pk"), ids))` (Django 4.0+ accepts lookups in
`filter()`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # a list of ids, not one value of the field

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(v) for v in self.rhs]  # ids only: anything else is the caller's mistake
        if not values:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, values]
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]
