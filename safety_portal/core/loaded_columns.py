"""Rows a hand-written statement returned, loaded into model instances as a query would load them.

Hot paths write their SQL by hand (the send's snapshot, the report intake's locked read, the
claim) and still want the instances the ORM would build: every value through its field's and the
backend's converters (JSON on PostgreSQL; booleans as 0/1 and dates as text on SQLite), and the
instance from `Model.from_db`. `Columns` does that for a chosen list of a model's fields, in the
order its `sql()` selects them; the converters are looked up once, when it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


class Columns:
    """Some fields of a model, selected under an alias and loaded back into a (partial) instance.

    Values go through the same converters the ORM would apply (SQLite returns booleans as 0/1
    and dates as text), and instances come from `Model.from_db`, as the ORM builds them.
    """

    def __init__(self, model: type[models.Model], alias: str, names: Sequence[str]) -> None:
        wanted = set(names)
        self.model = model
        self.alias = alias
        self.fields = [f for f in model._meta.concrete_fields if f.name in wanted]
        assert len(self.fields) == len(wanted), f"{model.__name__} lacks one of {names}"
        self.attnames = [f.attname for f in self.fields]
        cols = [f.get_col(alias) for f in self.fields]
        self._convert: list[tuple[Any, list[Callable[..., Any]]]] = [
            (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            for col in cols
        ]
        self._converts = any(converters for _col, converters in self._convert)

    def sql(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def column(self, name: str) -> str:
        return f"{self.alias}.{connection.ops.quote_name(self.model._meta.get_field(name).column)}"

    def values(self, raw: Sequence[Any]) -> list[Any]:
        if not self._converts:  # PostgreSQL: the driver already returns Python values
            if len(raw) != len(self.fields):
                raise ValueError(
                    f"{self.model.__name__}: {len(raw)} values, not {len(self.fields)}"
                )
            return list(raw)
        db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every value
        out = []
        for value, (col, converters) in zip(raw, self._convert, strict=True):
            for convert in converters:
                value = convert(value, col, db)
            out.append(value)
        return out

    def instance(self, raw: Sequence[Any]) -> models.Model:
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, self.values(raw))

    def __len__(self) -> int:
        return len(self.fields)


def all_columns(model: type[models.Model], alias: str) -> Columns:
    """Every concrete field of `model`, in model order."""
    return Columns(model, alias, [f.name for f in model._meta.concrete_fields])
