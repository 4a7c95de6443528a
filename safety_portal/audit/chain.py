"""Appending to and checking the hash chain.

Each entry's hash is SHA-256 over its canonical JSON (sorted keys, no spaces) including the previous
entry's hash and its gap-free `seq`. Altering a row breaks its own hash; removing or reordering rows
breaks the link or the sequence; removing the newest rows is caught by the external anchors (issue 7).

Concurrent writers must not fork the chain. On PostgreSQL every appender takes one transaction-scoped
advisory lock before reading the head, so appends are serialised in commit order; the unique `seq`
and `hash` columns are the backstop on every database (a lost race fails loudly, it never forks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

GENESIS = "0" * 64
# Arbitrary constant that names "the audit chain head" among advisory locks.
_ADVISORY_LOCK_KEY = 0x5AFE_A0D1

HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "reason",
    "before",
    "after",
    "request_id",
    "ip",
    "prev_hash",
)


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_payload(entry: Any) -> dict[str, Any]:
    """The hashed fields of an entry (a model instance or any object with those attributes)."""
    payload = {name: getattr(entry, name) for name in HASHED_FIELDS}
    payload["created_at"] = entry.created_at.isoformat(timespec="microseconds")
    return payload


def compute_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def lock_head() -> None:
    """Serialise appenders until the surrounding transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.seq} (id {self.entry_id})" if self.seq is not None else "chain"
        return f"{where}: {self.problem}"


def walk(entries: Iterable[Any]) -> Iterator[tuple[int, ChainProblem | None]]:
    """Yield (entries checked so far, first problem or None) as it goes, for progress display."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            what = (
                "missing or removed entries before it" if entry.seq > expected_seq else "reordered"
            )
            yield (
                checked,
                ChainProblem(
                    entry.seq, entry.id, f"sequence gap: expected #{expected_seq}, {what}"
                ),
            )
            return
        if entry.prev_hash != expected_prev:
            yield (
                checked,
                ChainProblem(
                    entry.seq, entry.id, "link broken: prev_hash does not match the previous entry"
                ),
            )
            return
        if compute_hash(entry_payload(entry)) != entry.hash:
            yield checked, ChainProblem(entry.seq, entry.id, "content altered: hash does not match")
            return
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
        if checked % 10_000 == 0:
            yield checked, None
    yield checked, None
