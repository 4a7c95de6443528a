"""Several rows of one transaction written by one statement: each INSERT or UPDATE a data-modifying
CTE of a single `WITH ... SELECT` (PostgreSQL), so that a use case that must write a handful of
rows pays one round trip for them, not one each (issue 13; docs/decisions.md D27).

The statements are those the ORM sends for `save()`: compiled once per model (and per set of
updated fields), every value through its field's `pre_save` and `get_db_prep_save`, the same
`pre_save`/`post_save` signals around the write, and the same rollback marking inside an atomic
block. Every part must come back with exactly one row (an INSERT always does; an UPDATE by primary
key does when the row is there): a part that wrote nothing is an error, never silence.

PostgreSQL only (SQLite has no data-modifying CTEs): callers keep their ORM path for other
databases and test that both write the same rows. The parts of one statement share one snapshot
and none of them sees another's rows, so they must not depend on each other (the foreign keys
between our tables are checked at commit, `DEFERRABLE INITIALLY DEFERRED`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery


@functools.cache
def compiled_insert(
    model: type[models.Model], vendor: str
) -> tuple[str, list[models.Field], tuple[Any, ...]]:
    """The INSERT that `Model.save(force_insert=True)` sends, compiled once per backend.

    Its text depends only on the model's fields (every value is a plain `%s`), so it is the same
    statement for every row; compiling it is most of the ORM's own cost per save. A primary key
    the caller set is not in it (`insert(..., with_pk=True)` compiles the one with it).
    """
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f not in meta.pk_fields and not f.generated]
    return _compile(model, fields)


@functools.cache
def _compiled_insert_with_pk(
    model: type[models.Model], vendor: str
) -> tuple[str, list[models.Field], tuple[Any, ...]]:
    meta = model._meta
    return _compile(model, [f for f in meta.local_concrete_fields if not f.generated])


def _compile(
    model: type[models.Model], fields: list[models.Field]
) -> tuple[str, list[models.Field], tuple[Any, ...]]:
    connection = connections[DEFAULT_DB_ALIAS]
    query = InsertQuery(model)
    query.insert_values(fields, [model()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = model._meta.db_returning_fields
    [(sql, _params)] = compiler.as_sql()
    return sql, fields, compiler.returning_params


@functools.cache
def _compiled_update(model: type[models.Model], names: tuple[str, ...], vendor: str) -> str:
    """`UPDATE <table> SET <each field> = %s WHERE <pk> = %s RETURNING <pk>`."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(n).column)} = %s" for n in names)
    pk = quote(meta.pk.column)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {pk} = %s RETURNING {pk}"


@dataclass
class Part:
    """One data-modifying statement of the combined one, with `RETURNING` (one row)."""

    sql: str
    params: list[Any]
    instance: models.Model | None = None
    created: bool = False
    update_fields: frozenset[str] | None = None
    width: int = 1  # how many columns its RETURNING gives


def insert(instance: models.Model, *, with_pk: bool = False) -> Part:
    """The INSERT of `instance` (a new row; its primary key comes back). `with_pk`: the caller
    has already taken the primary key (from the table's sequence, in an earlier statement of
    the transaction) so that other parts can name it, and it is inserted with the row."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instance)
    if with_pk:
        if instance.pk is None:
            raise ValueError(f"{instance!r} needs its primary key before a combined insert.")
        sql, fields, _returning = _compiled_insert_with_pk(model, db.vendor)
    else:
        sql, fields, _returning = compiled_insert(model, db.vendor)
    pre_save.send(sender=model, instance=instance, raw=False, using=db.alias, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]
    width = len(model._meta.db_returning_fields)
    return Part(sql, params, instance=instance, created=True, width=width)


def update(instance: models.Model, fields: Sequence[str]) -> Part:
    """`instance.save(update_fields=fields)` as a part: the row must exist."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instance)
    names = tuple(fields)
    if not names:
        raise ValueError("A combined update sets at least one field.")
    sql = _compiled_update(model, names, db.vendor)
    frozen = frozenset(names)
    pre_save.send(sender=model, instance=instance, raw=False, using=db.alias, update_fields=frozen)
    meta = model._meta
    params = [
        (f := meta.get_field(name)).get_db_prep_save(f.pre_save(instance, False), db)
        for name in names
    ]
    params.append(meta.pk.get_db_prep_save(instance.pk, db))
    return Part(sql, params, instance=instance, update_fields=frozen)


def write(parts: Sequence[Part], *, alone: bool = False) -> list[tuple[Any, ...]]:
    """Run `parts` as one statement; return each part's returned row.

    Raises `RuntimeError` when a part wrote no row (an UPDATE whose row was not there): the whole
    statement is then rolled back with the caller's transaction.

    `alone=True`: the statement is the whole change, sent outside any transaction block.
    PostgreSQL runs a single statement atomically (all its parts commit, or none), so this is one
    round trip where BEGIN, the statement and COMMIT are three (the API's receipt, D38).
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        raise RuntimeError("combined_writes.write needs PostgreSQL (data-modifying CTEs).")
    if alone and db.in_atomic_block:
        raise RuntimeError("combined_writes.write(alone=True) runs outside any transaction.")
    if not alone and not db.in_atomic_block:
        raise RuntimeError("combined_writes.write runs inside the transaction of the change.")
    sql, params = _statement(parts)
    with transaction.mark_for_rollback_on_error(db.alias), db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if len(rows) != 1:
            raise RuntimeError(
                f"A combined write expected one row from each of its {len(parts)} parts; "
                "one of them wrote nothing."
            )
    returned = _split(rows[0], parts)
    for part, values in zip(parts, returned, strict=True):
        instance = part.instance
        if instance is None:
            continue
        if part.created:  # as `save()` sets them: the primary key and any database defaults
            for f, value in zip(type(instance)._meta.db_returning_fields, values, strict=True):
                setattr(instance, f.attname, value)
        instance._state.adding = False
        instance._state.db = db.alias
        post_save.send(
            sender=type(instance),
            instance=instance,
            created=part.created,
            update_fields=part.update_fields,
            raw=False,
            using=db.alias,
        )
    return returned


def _statement(parts: Sequence[Part]) -> tuple[str, list[Any]]:
    if len(parts) == 1:  # nothing to combine: the part's own statement, without a CTE to plan
        return parts[0].sql, list(parts[0].params)
    ctes = ", ".join(f"w{i} AS ({part.sql})" for i, part in enumerate(parts))
    sources = ", ".join(f"w{i}" for i in range(len(parts)))
    params: list[Any] = []
    for part in parts:
        params.extend(part.params)
    return f"WITH {ctes} SELECT * FROM {sources}", params


def _split(row: Sequence[Any], parts: Sequence[Part]) -> list[tuple[Any, ...]]:
    out, at = [], 0
    for part in parts:
        out.append(tuple(row[at : at + part.width]))
        at += part.width
    if at != len(row):
        raise RuntimeError(f"A combined write returned {len(row)} columns, its parts {at}.")
    return out
