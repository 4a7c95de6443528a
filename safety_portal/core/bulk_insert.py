"""`copy_insert`: many new rows of one model in one COPY on PostgreSQL (`bulk_create` elsewhere).

For batched jobs that write thousands of rows a transaction (the minimum-age sweep's reviews,
notices and audit entries, POLICY.md §7.3): `bulk_create` prepares every value of every row
through the ORM and, with client-side binding, quotes them into the SQL text, which costs more than
the database's own work; COPY streams the values with psycopg's dumpers. Primary keys are not read
back, so the objects keep `pk=None`: callers that need them use `bulk_create`. Model `save()`
overrides and signals are not run, as with `bulk_create`; the caller is the model's own door.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models


def copy_insert(model: type[models.Model], objs: Sequence[models.Model]) -> int:
    """Insert `objs` (unsaved instances of `model`) in the caller's transaction; their count."""
    return copy_rows(model, [obj.__dict__ for obj in objs])


def copy_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert `rows` (field attnames to values; a field left out takes its default) without
    building a model instance per row, in the caller's transaction; their count."""
    if not rows:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]  # resolved once: the proxy costs a lookup per use
    # A column the database fills itself (`db_default`) is left to it unless the rows set it.
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (f.db_default is models.NOT_PROVIDED or f.attname in rows[0])
    ]
    defaults = {f.attname: f.get_default() for f in fields}
    if connection.vendor != "postgresql":
        models.QuerySet(model=model).bulk_create([model(**{**defaults, **row}) for row in rows])
        return len(rows)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # A value the field's preparation would hand to psycopg unchanged goes as it is (a plain value
    # of a plain column, an aware time, a NULL); anything else (JSON, an address, a country object,
    # a naive time) through the field's own preparation, as the ORM would.
    # A JSON value that repeats in the batch (the same mapping object on every row, as the audit
    # writer's shared before/after) is encoded once, with the field's encoder, as JSON text.
    preps = [
        (
            f.attname,
            _encoded_once(f) if f.get_internal_type() == "JSONField" else f.get_db_prep_save,
            _passes_as_is(f),
        )
        for f in fields
    ]
    # Errors from the raw cursor become Django's (IntegrityError, DataError) as from the ORM.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg 3 cursor behind Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for name, prep, as_is in preps:
                    value = row.get(name, defaults[name])
                    if not as_is(value):
                        value = prep(value, connection)
                    values.append(value)
                copy.write_row(values)
    return len(rows)


_PLAIN_COLUMNS = frozenset(
    {
        "CharField", "TextField", "DateField", "BigIntegerField", "IntegerField",
        "PositiveIntegerField", "BooleanField", "ForeignKey", "BigAutoField",
    }
)  # fmt: skip
_PLAIN_VALUES = frozenset({str, int, bool, dt.date, type(None)})
# Columns whose preparation returns NULL for None and an aware datetime unchanged (Django's
# JSONField and GenericIPAddressField on PostgreSQL: None stays SQL NULL).
_AWARE_TIME_COLUMNS = frozenset({"DateTimeField"})
_NULL_AS_IS_COLUMNS = frozenset({"JSONField", "GenericIPAddressField"})


def _encoded_once(field: models.Field) -> Callable[[Any, Any], Any]:
    """A JSON field's preparation for COPY that encodes each distinct value object once: the
    JSON text, as Django's own adapter would write it (`json.dumps` with the field's encoder),
    which PostgreSQL parses as the column's input. Values are kept alive with their text, so an
    id is never reused within the batch."""
    memo: dict[int, tuple[Any, str]] = {}

    def prep(value: Any, _connection: Any) -> str:
        hit = memo.get(id(value))
        if hit is None or hit[0] is not value:
            hit = memo[id(value)] = (value, json.dumps(value, cls=field.encoder))
        return hit[1]

    return prep


def _passes_as_is(field: models.Field) -> Callable[[Any], bool]:
    """Whether a value of `field` can skip the field's preparation (see `copy_rows`)."""
    kind = field.get_internal_type()
    if kind in _PLAIN_COLUMNS:
        return lambda value: type(value) in _PLAIN_VALUES
    if kind in _AWARE_TIME_COLUMNS:
        return lambda value: (
            value is None or (type(value) is dt.datetime and value.tzinfo is not None)
        )
    if kind in _NULL_AS_IS_COLUMNS:
        return lambda value: value is None
    return lambda value: False
