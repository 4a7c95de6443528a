"""The chainer: links committed audit entries into the hash chain after their transactions
commit (issue 13, docs/decisions.md D23).

One chainer links at a time: it takes the chain-head lock (the same advisory lock the inline
writer takes, so the two never extend the chain at once). It reads the committed horizon
(`horizon.py`) and links only the entries below it, in (`txid`, `id`) order, so it never has to
link an entry before one it has already linked. Each entry's hash is computed over the values as
the database stored them, which is what `verify_audit_log` reads back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from safety_portal.core import clock

from . import chain
from .horizon import committed_horizon
from .models import AuditEntry

BATCH = 5_000
# What the chainer reads of an entry: every field the verifier reads but the three it sets.
_UNLINKED_FIELDS = tuple(f for f in chain.ROW_FIELDS if f not in ("seq", "prev_hash", "hash"))


@dataclass(frozen=True)
class Linked:
    linked: int
    head_seq: int | None
    waiting: int  # entries committed but not yet final (a writer before them is still open)

    def as_dict(self) -> dict[str, int | None]:
        return {"linked": self.linked, "head_seq": self.head_seq, "waiting": self.waiting}


@dataclass(frozen=True)
class Tail:
    """The entries not linked yet, and how old the oldest is (an alert past a threshold)."""

    count: int
    oldest: dt.datetime | None

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        if self.oldest is None:
            return 0.0
        return max(0.0, ((now or clock.now()) - self.oldest).total_seconds())


def _unlinked():  # type: ignore[no-untyped-def]
    return AuditEntry.objects.filter(seq__isnull=True).order_by()


def unchained_tail() -> Tail:
    pending = _unlinked()
    oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
    return Tail(pending.count(), oldest)


def link_committed(
    *, batch: int = BATCH, on_progress: Callable[[int], None] | None = None
) -> Linked:
    """Link every final entry, a batch per transaction; how many, the new head, and how many
    committed entries wait behind a writer that is still open."""
    if not 1 <= batch <= 100_000:
        raise ValueError(f"batch must be between 1 and 100000, not {batch}")
    total, head_seq = 0, None
    while True:
        with transaction.atomic():
            head = chain.lock_and_read_head()
            horizon = committed_horizon()
            rows = _final_unlinked(horizon, batch)
            if rows:
                head_seq = _link(rows, head)
            elif head:
                head_seq = head[0]
        total += len(rows)
        if on_progress is not None:
            on_progress(total)
        if len(rows) < batch:
            break
    return Linked(total, head_seq, _unlinked().count())


def _final_unlinked(horizon: int | None, batch: int) -> list[tuple]:
    pending = _unlinked()
    if horizon is not None:
        pending = pending.filter(txid__lt=horizon)
    return list(pending.order_by("txid", "id").values_list(*_UNLINKED_FIELDS)[:batch])


def _link(rows: list[tuple], head: tuple[int, str] | None) -> int:
    seq, prev = head if head else (0, chain.GENESIS)
    ids, times, seqs, prevs, hashes = [], [], [], [], []
    for values in rows:
        row = dict(zip(_UNLINKED_FIELDS, values, strict=True))
        seq += 1
        row["seq"], row["prev_hash"] = seq, prev
        prev = chain.compute_hash(chain.row_payload(row))
        ids.append(row["id"])
        times.append(row["created_at"])
        seqs.append(seq)
        prevs.append(row["prev_hash"])
        hashes.append(prev)
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
            "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::timestamptz[]) AS created_at, "
            "unnest(%s::bigint[]) AS seq, unnest(%s::text[]) AS prev_hash, "
            "unnest(%s::text[]) AS hash) AS v "
            # created_at as well as id: the primary key of the partitioned log (D32), so each
            # row is found by one index probe in its month's partition, not one per partition.
            "WHERE e.id = v.id AND e.created_at = v.created_at AND e.seq IS NULL",
            [ids, times, seqs, prevs, hashes],
        )
        if cursor.rowcount != len(ids):
            raise RuntimeError(
                f"linked {cursor.rowcount} of {len(ids)} audit entries: another writer linked "
                "some of them, which the chain-head lock should make impossible"
            )
    return seq
