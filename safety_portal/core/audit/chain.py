"""Appending to and checking the hash chain.

Each entry's hash is SHA-256 over its canonical JSON (sorted keys, no spaces) including the previous
entry's hash and its gap-free `seq`. Altering a row breaks its own hash; removing or reordering rows
breaks the link or the sequence; removing the newest rows (or rewriting a whole suffix of the chain
with fresh hashes) is caught by the external anchors of issue 7 (`anchors.py`).

Concurrent writers must not fork the chain. On PostgreSQL every appender takes one transaction-scoped
advisory lock before reading the head, so appends are serialised in commit order; the unique `seq`
and `hash` columns are the backstop on every database (a lost race fails loudly, it never forks).
On SQLite (the embedded demo) `transaction_mode = IMMEDIATE` already serialises writers.

The hashed form of two fields is normalised so that a value survives the database round trip
unchanged: `created_at` in UTC with microseconds, and `ip` as the fully written-out address
(PostgreSQL's `inet` prints IPv6 addresses its own way; the address, not its spelling, is hashed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection

from .models import AuditEntry

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
# The columns the verifier reads, in this order: id, the hashed fields, the stored hash.
ROW_FIELDS = ("id", *HASHED_FIELDS, "hash")


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hashed_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def hashed_ip(value: str | None) -> str | None:
    if value is None:
        return None
    if ":" not in value:
        # IPv4: `record()` stores the canonical dotted quad and PostgreSQL prints it unchanged.
        return value
    return ipaddress.ip_address(value).exploded


def entry_payload(entry: Any) -> dict[str, Any]:
    """The hashed fields of an entry (a model instance or any object with those attributes)."""
    return row_payload({name: getattr(entry, name) for name in HASHED_FIELDS})


def row_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of an entry given as a mapping of field names (the batch writer's rows,
    which are never built as model instances)."""
    payload = {name: row[name] for name in HASHED_FIELDS}
    payload["created_at"] = hashed_time(row["created_at"])
    payload["ip"] = hashed_ip(row["ip"])
    return payload


def compute_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


# One round trip: take the lock, then read the head in a *second statement*. Under READ COMMITTED
# each statement of a multi-statement query takes its own snapshot, so the read sees the entry the
# previous lock holder committed; and the server runs it the moment the lock is granted, with no
# client round trip inside the serialised section.
_LOCK_THEN_READ_HEAD = (
    f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY}); "
    "SELECT seq, hash FROM audit_auditentry WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
)


def lock_and_read_head() -> tuple[int, str] | None:
    """Take the chain-head lock for the rest of the transaction and return (seq, hash) of the head.

    The head is read after the lock is granted, so two appenders can never read the same head
    (decisions D3). On SQLite, `transaction_mode = IMMEDIATE` already serialises writers.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_THEN_READ_HEAD)
            if not cursor.nextset():
                raise RuntimeError("the chain-head query returned no second result")
            row = cursor.fetchone()
            return (row[0], row[1]) if row else None
    return (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        if self.seq is None:
            return f"chain: {self.problem}"
        where = f"entry #{self.seq}" + (f" (id {self.entry_id})" if self.entry_id else "")
        return f"{where}: {self.problem}"


class AnchorLike(Protocol):
    seq: int
    hash: str

    def describe(self) -> str: ...


class ChainVerifier:
    """Checks entries one at a time, in `seq` order, in constant memory.

    Feed it rows with `check_row()` (tuples in `ROW_FIELDS` order, as a streaming query yields them)
    and call `finish()` at the end. The first problem stops the walk: everything after a break is
    unverifiable, and the first bad entry is what an investigator needs. `anchors` maps a seq to the
    anchors recorded for it (issue 7); each must match the entry's hash, and the newest one must not
    lie beyond the end of the chain.
    """

    def __init__(self, anchors: Mapping[int, Sequence[AnchorLike]] | None = None) -> None:
        self.anchors = anchors or {}
        self.newest_anchor: AnchorLike | None = max(
            (a for group in self.anchors.values() for a in group),
            key=lambda a: a.seq,
            default=None,
        )
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.checked = 0
        self.anchors_checked = 0
        self.head: tuple[int, int, str] | None = None  # (seq, id, hash) of the last good entry
        self.problem: ChainProblem | None = None

    def check_row(self, row: Sequence[Any]) -> ChainProblem | None:
        entry_id, seq, stored_hash = row[0], row[1], row[-1]
        payload = dict(zip(HASHED_FIELDS, row[1:-1], strict=True))
        payload["created_at"] = hashed_time(payload["created_at"])
        if payload["ip"] is not None:
            payload["ip"] = hashed_ip(payload["ip"])
        return self._check(entry_id, seq, payload, stored_hash)

    def check_entry(self, entry: Any) -> ChainProblem | None:
        return self._check(entry.id, entry.seq, entry_payload(entry), entry.hash)

    def _check(
        self, entry_id: int, seq: int, payload: dict[str, Any], stored_hash: str
    ) -> ChainProblem | None:
        if self.problem is not None:
            return self.problem
        if seq != self.expected_seq:
            if seq > self.expected_seq:
                missing = (
                    f"#{self.expected_seq}"
                    if seq == self.expected_seq + 1
                    else f"#{self.expected_seq}..#{seq - 1}"
                )
                what = f"sequence gap: expected #{self.expected_seq}; {missing} removed"
            else:
                what = f"sequence out of order: expected #{self.expected_seq}"
            return self._fail(seq, entry_id, what)
        if compute_hash(payload) != stored_hash:
            return self._fail(
                seq, entry_id, "content altered: its hash does not match its recorded fields"
            )
        if payload["prev_hash"] != self.prev_hash:
            before = "the genesis value" if seq == 1 else f"the hash of #{seq - 1}"
            return self._fail(
                seq,
                entry_id,
                f"link broken: prev_hash is not {before} (an entry before it was replaced, "
                "removed or reordered)",
            )
        for anchor in self.anchors.get(seq, ()):
            self.anchors_checked += 1
            if anchor.hash != stored_hash:
                return self._fail(
                    seq,
                    entry_id,
                    f"anchor mismatch: {anchor.describe()} recorded hash {anchor.hash[:16]}…, "
                    f"the chain has {stored_hash[:16]}… (history rewritten after it was anchored)",
                )
        self.prev_hash = stored_hash
        self.expected_seq += 1
        self.checked += 1
        self.head = (seq, entry_id, stored_hash)
        return None

    def finish(self) -> ChainProblem | None:
        """After the last row: is the chain at least as long as the newest anchor says?"""
        if self.problem is not None:
            return self.problem
        newest = self.newest_anchor
        last_seq = self.expected_seq - 1
        if newest is not None and newest.seq > last_seq:
            ends = f"ends at #{last_seq}" if last_seq else "is empty"
            return self._fail(
                last_seq + 1,
                None,
                f"missing: the chain {ends} but {newest.describe()} recorded #{newest.seq}; "
                f"entries #{last_seq + 1}..#{newest.seq} were removed (tail truncation)",
            )
        return None

    def _fail(self, seq: int, entry_id: int | None, what: str) -> ChainProblem:
        self.problem = ChainProblem(seq, entry_id, what)
        return self.problem


def walk(entries: Iterable[Any]) -> Iterator[tuple[int, ChainProblem | None]]:
    """Yield (entries checked so far, first problem or None) as it goes, for progress display.

    Takes model instances (or objects with the same attributes); `ChainVerifier.check_row` is the
    faster path over plain rows that `verify_audit_log` uses.
    """
    verifier = ChainVerifier()
    for entry in entries:
        problem = verifier.check_entry(entry)
        if problem is not None:
            yield verifier.checked, problem
            return
        if verifier.checked % 10_000 == 0:
            yield verifier.checked, None
    yield verifier.checked, verifier.finish()
