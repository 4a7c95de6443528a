"""`record()`: the one way an audit entry is written."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models

from safety_portal.core import clock, combined_writes
from safety_portal.core.bulk_insert import copy_rows

from . import chain
from .actors import ActorIdentity, identify
from .context import ip_var, request_id_var
from .models import AuditEntry
from .pending import Pending
from .redaction import clean_text, redact

ACTION_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
ACTION_MAX_LENGTH = 100


def describe_target(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if target.pk is None:
        raise ValueError(
            f"Audit target {target!r} has no primary key yet: save it before recording the change."
        )
    return target._meta.label_lower, str(target.pk), str(target)[:200]


def record(
    *,
    actor: object,
    action: str,
    target: models.Model | None = None,
    reason: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction.

    It must run inside `transaction.atomic()` together with the change it describes, so that a failed
    change leaves no entry and a failed audit write rolls the change back (issue 2; POLICY.md §6).
    With the inline writer (AUDIT_CHAIN_DEFERRED=false) call it as the last write of the
    transaction: from here to the commit the transaction holds the chain-head lock, and every other
    audited write waits for it (D3). The deferred writer, the default on PostgreSQL, takes no lock;
    the chainer links the entry after the commit (D23).

    Values are redacted before they are stored (`redaction.py`, POLICY.md §1 and §4). An id longer
    than its column (target id 64 characters) is refused by the database rather than truncated: a
    shortened id would point at the wrong thing.
    """
    _require_transaction()
    row = _prepare(
        _Shared.of(actor, action),
        target=target,
        reason=reason,
        before=before,
        after=after,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
    )
    # Everything above is prepared before taking the lock, so the lock is held for as little
    # work as possible: read the head (same round trip as the lock), hash, insert.
    _chain([row])
    return _insert(row)


def _insert(row: dict[str, Any]) -> AuditEntry:
    """One INSERT of the prepared row, returning the entry as `save()` would have.

    A hand-built statement rather than `Model.save()`: the ORM compiles the same INSERT anew for
    every entry, which cost a fifth of an audited write with the deferred chain (bench_audit).
    The values that need it go through their field's own conversion for the database (the JSON,
    time and address fields; the text fields hold cleaned strings already), and `txid` is left to
    its database default and read back, as the ORM does.
    """
    sql, params = _statement(row)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        entry_id, txid = cursor.fetchone()
    stored = {**row, "id": entry_id, "txid": txid}
    # As a query would load it: stored, not adding, bound to this database.
    return AuditEntry.from_db(connection.alias, _ATTNAMES, [stored.get(n) for n in _ATTNAMES])


def _statement(row: dict[str, Any]) -> tuple[str, list[Any]]:
    names = tuple(row)
    sql = _INSERT_SQL.get(names)
    if sql is None:
        sql = _INSERT_SQL[names] = _insert_sql(names)
    converted = _CONVERTED
    params = [
        converted[name].get_db_prep_save(value, connection) if name in converted else value
        for name, value in row.items()
    ]
    return sql, params


def entry_part(*, actor: object, action: str, **fields: Any) -> combined_writes.Part:
    """`record()`'s entry as one part of the caller's combined statement (`core.combined_writes`),
    for a hot path that writes its rows and its audit entry in one round trip (D27).

    The same entry as `record()` writes, prepared by the same code, in the caller's transaction;
    only with the deferred chain (D23), where the writer takes no lock and links nothing, so the
    entry's place among the transaction's writes does not matter. With the inline writer the
    entry must be the last write and hold the chain-head lock: call `record()` (this raises).
    `fields` are `record()`'s (target, reason, before, after, target_type, ...). The part
    returns the entry's id and txid.
    """
    if not chain_is_deferred():
        raise RuntimeError("audit.entry_part needs the deferred chain; call audit.record().")
    _require_transaction()
    fields.setdefault("target", None)
    fields.setdefault("reason", "")
    fields.setdefault("before", None)
    fields.setdefault("after", None)
    row = _prepare(_Shared.of(actor, action), **fields)
    _chain([row])
    sql, params = _statement(row)
    return combined_writes.Part(sql, params, width=2)


_FIELDS = {field.name: field for field in AuditEntry._meta.concrete_fields}
_ATTNAMES = [field.attname for field in AuditEntry._meta.concrete_fields]
_CONVERTED = {
    name: field
    for name, field in _FIELDS.items()
    if not isinstance(field, (models.CharField, models.TextField, models.IntegerField))
}
_INSERT_SQL: dict[tuple[str, ...], str] = {}  # compiled statements, one per set of columns


def _insert_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_FIELDS[name].column) for name in names)
    values = ", ".join(["%s"] * len(names))
    table = quote(AuditEntry._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {quote('id')}, {quote('txid')}"


def record_many(*, actor: object, action: str, entries: Sequence[Pending]) -> int:
    """Append one entry per item, in order, under one take of the chain-head lock.

    For batched work that must still be audited per account (the minimum-age sweep, POLICY.md
    §7.3): the entries are exactly those `record()` would write one by one, in one COPY
    (`core.bulk_insert`), so a batch of a thousand accounts costs one lock and one round trip
    instead of a thousand. The entries are built as rows, never as model instances (a thousand
    instances cost more than their COPY); the count written is returned. The same rules hold:
    inside the transaction of the change, as its last write (decisions D3).
    """
    _require_transaction()
    shared = _Shared.of(actor, action)
    # A batch usually repeats one reason and one before/after mapping for every account: each
    # distinct object is cleaned or redacted once (both are pure, and nothing mutates them here).
    reasons: dict[str, str] = {}
    redacted: dict[int, dict[str, Any] | None] = {}
    prepared = [
        _prepare(
            shared,
            target=item.target,
            reason=item.reason,
            before=item.before,
            after=item.after,
            target_type=item.target_type,
            target_id=item.target_id,
            target_label=item.target_label,
            reasons=reasons,
            redacted=redacted,
        )
        for item in entries
    ]
    if not prepared:
        return 0
    _chain(prepared)
    # The model's managers refuse bulk writes so that nobody else appends; this is the writer.
    return copy_rows(AuditEntry, prepared)


def chain_is_deferred() -> bool:
    return bool(settings.AUDIT_CHAIN_DEFERRED) and connection.vendor == "postgresql"


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit.record() must run inside transaction.atomic() with the change it records."
        )


@dataclass(frozen=True)
class _Shared:
    """What every entry of one `record()` or `record_many()` call has in common, worked out once."""

    actor_kind: str
    actor_id: str
    actor_label: str
    action: str
    today: dt.date
    request_id: str
    ip: str | None

    @classmethod
    def of(cls, actor: object, action: str) -> _Shared:
        if (
            not isinstance(action, str)
            or len(action) > ACTION_MAX_LENGTH
            or not ACTION_CODE.match(action)
        ):
            raise ValueError(
                f"Audit action {action!r} must be a dotted lower-case code such as "
                f"'accounts.status.changed' (at most {ACTION_MAX_LENGTH} characters)."
            )
        who = actor if isinstance(actor, ActorIdentity) else identify(actor)
        if not who.id or who.id == "None":
            raise ValueError(f"Actor {actor!r} has no identity yet (an unsaved user?).")
        ip = ip_var.get()
        return cls(
            actor_kind=who.kind,
            actor_id=clean_text(who.id)[:64],
            actor_label=clean_text(who.label)[:150],
            action=action,
            today=clock.today(),
            request_id=request_id_var.get()[:64],
            ip=str(ipaddress.ip_address(ip)) if ip else None,
        )


def _prepare(
    shared: _Shared,
    *,
    target: models.Model | None,
    reason: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
    reasons: dict[str, str] | None = None,
    redacted: dict[int, dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """One entry's fields, before chaining; `reasons` and `redacted` memoise the cleaning of
    repeated values."""
    t_type, t_id, t_label = describe_target(target)
    if reasons is None:
        clean_reason = clean_text(reason)
    elif (clean_reason := reasons.get(reason)) is None:
        clean_reason = reasons[reason] = clean_text(reason)
    return {
        "actor_kind": shared.actor_kind,
        "actor_id": shared.actor_id,
        "actor_label": shared.actor_label,
        "action": shared.action,
        "target_type": clean_text(target_type if target_type is not None else t_type),
        "target_id": clean_text(str(target_id) if target_id is not None else t_id),
        "target_label": clean_text(target_label if target_label is not None else t_label)[:200],
        "reason": clean_reason,
        "before": _redacted(before, shared.today, redacted),
        "after": _redacted(after, shared.today, redacted),
        "request_id": shared.request_id,
        "ip": shared.ip,
    }


def _redacted(
    values: Mapping[str, Any] | None, today: dt.date, memo: dict[int, dict[str, Any] | None] | None
) -> dict[str, Any] | None:
    if memo is None or values is None:
        return redact(values, on=today)
    key = id(values)  # the caller keeps every mapping alive for the whole call
    if key not in memo:
        memo[key] = redact(values, on=today)
    return memo[key]


def _chain(rows: Sequence[dict[str, Any]]) -> None:
    """Take the chain-head lock and link `rows` after the head, in order; or, with the deferred
    chain (D23), only stamp them, and leave the linking to the chainer after the commit."""
    if chain_is_deferred():
        now = clock.now()
        for row in rows:
            row["created_at"] = now
        return
    head = chain.lock_and_read_head()
    seq, prev = (head[0], head[1]) if head else (0, chain.GENESIS)
    now = clock.now()
    for row in rows:
        seq += 1
        row["seq"], row["prev_hash"], row["created_at"] = seq, prev, now
        row["hash"] = prev = chain.compute_hash(chain.row_payload(row))
