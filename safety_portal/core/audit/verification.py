"""The whole audit-log check in one place: `verify_audit_log` and the portal's button both call it.

It reads the external anchors first, then walks the chain in `seq` order with a streaming query, so
memory stays flat at any size and every anchor names a head committed before the chain's snapshot
(a new anchor written during the walk cannot be mistaken for a truncated tail). Issue 2 (walk the
chain, name the first bad entry) and issue 7 (check the chain against the anchors).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from . import anchors as anchor_stores
from . import archive
from .chain import ROW_FIELDS, ChainProblem, ChainVerifier
from .chainer import Tail, unchained_tail
from .models import AuditEntry

ANCHOR_CHOICES = ("all", "redis", "file", "none")
logger = logging.getLogger(__name__)
PROGRESS_EVERY = 2_000


@dataclass
class Verification:
    checked: int
    head: tuple[int, int, str] | None  # (seq, id, hash) of the last good entry
    problem: ChainProblem | None
    anchors_checked: int = 0
    anchors_found: int = 0
    stores: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tail: Tail = field(default_factory=lambda: Tail(0, None))

    @property
    def tail_is_late(self) -> bool:
        """An entry waiting longer than AUDIT_CHAIN_LAG_ALERT seconds: the chainer is not running
        or a writer has held a transaction open for that long. An alert, not a break."""
        return self.tail.age_seconds() > settings.AUDIT_CHAIN_LAG_ALERT

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        """One line for an operator: the verdict, the head, and what the anchors proved."""
        if self.problem is not None and self.problem.seq is None:
            return f"audit log check FAILED: {self.problem.problem} ({self.seconds:.1f} s)."
        if self.problem is not None:
            return (
                f"audit chain BROKEN at {self.problem} — {self.checked:,} entries before it "
                f"are intact ({self.seconds:.1f} s)."
            )
        head = (
            f"head #{self.head[0]} (id {self.head[1]}) {self.head[2][:16]}…"
            if self.head
            else "empty log"
        )
        if not self.stores:
            anchors = "anchors not checked"
        elif self.anchors_found == 0:
            anchors = (
                f"no anchors yet in {', '.join(self.stores)}: tail truncation cannot be ruled out"
            )
        else:
            anchors = (
                f"{self.anchors_checked} anchor(s) matched of {self.anchors_found} in "
                f"{', '.join(self.stores)}"
            )
        unlinked = ""
        if self.tail.count:
            unlinked = (
                f"; {self.tail.count:,} newer entries not linked yet, the oldest "
                f"{self.tail.age_seconds():.0f} s old"
                + (" (LATE: is the chainer running?)" if self.tail_is_late else "")
            )
        return (
            f"audit chain intact: {self.checked:,} entries, {head}; {anchors}{unlinked} "
            f"({self.seconds:.1f} s)."
        )


def _stores(which: str) -> list[anchor_stores.AnchorStore]:
    if which not in ANCHOR_CHOICES:
        raise ValueError(f"anchors must be one of {', '.join(ANCHOR_CHOICES)}, not {which!r}")
    if which == "none":
        return []
    stores = anchor_stores.configured_stores()
    if which == "redis":
        stores = [s for s in stores if isinstance(s, anchor_stores.RedisAnchorStore)]
        if not stores:
            raise ValueError("checking the Redis anchors needs REDIS_URL to be set")
    elif which == "file":
        stores = [s for s in stores if isinstance(s, anchor_stores.FileAnchorStore)]
    return stores


def verify_chain(
    *,
    anchors: str = "all",
    chunk_size: int = 5_000,
    on_progress: Callable[[int, int], None] | None = None,
    archive_dir: Path | None = None,
) -> Verification:
    """Check the audit log; the first problem found is in `.problem` (None when intact).

    `anchors` picks the stores to check ("all" configured, "redis", "file", "none"). Raises
    ValueError for a bad argument and `anchors.AnchorError` when a store cannot be read (that is
    "cannot verify", not "intact"). A store holding something that is not an anchor is reported as
    a problem: garbage in a store that only we append to is evidence of tampering.
    `on_progress(checked, total)` is called every few thousand entries.

    Months archived and detached (issue 14.5, `archive.py`) are read back from their files in
    `archive_dir` (AUDIT_ARCHIVE_DIR) and merged into the walk by `seq`, so the chain is checked
    whole; a registered archive that is missing or changed is a problem, never skipped.
    """
    if not 1 <= chunk_size <= 1_000_000:
        raise ValueError(f"chunk size must be between 1 and 1000000, not {chunk_size}")
    started = time.monotonic()
    stores = _stores(anchors)
    names = [s.name for s in stores]
    try:
        anchored = anchor_stores.load_anchors(stores)
    except anchor_stores.CorruptAnchor as exc:
        return Verification(
            0,
            None,
            ChainProblem(None, None, f"anchors corrupt: {exc}"),
            stores=names,
            seconds=time.monotonic() - started,
        )
    verifier = ChainVerifier(anchored)
    archived, missing = archive.registered_rows(archive_dir)
    if missing is not None:
        return Verification(
            0,
            None,
            ChainProblem(None, None, missing),
            stores=names,
            seconds=time.monotonic() - started,
        )
    with transaction.atomic():
        # Inside a transaction the PostgreSQL cursor streams without WITH HOLD, so the server
        # does not materialise the whole result first.
        linked = AuditEntry.objects.filter(seq__isnull=False)
        total = linked.order_by("-seq").values_list("seq", flat=True).first() or 0
        tail = unchained_tail()
        live = linked.order_by("seq").values_list(*ROW_FIELDS).iterator(chunk_size=chunk_size)
        rows = heapq.merge(live, *archived, key=lambda row: row[1]) if archived else live
        for row in rows:
            if verifier.check_row(row) is not None:
                break
            if on_progress is not None and verifier.checked % PROGRESS_EVERY == 0:
                on_progress(verifier.checked, total)
    problem = verifier.finish()
    if on_progress is not None:
        on_progress(verifier.checked, total)
    result = Verification(
        checked=verifier.checked,
        head=verifier.head,
        problem=problem,
        anchors_checked=verifier.anchors_checked,
        anchors_found=sum(len(group) for group in anchored.values()),
        stores=names,
        seconds=time.monotonic() - started,
        tail=tail,
    )
    if result.tail_is_late:
        age = tail.age_seconds()
        logger.warning(
            "audit chain lag: %d entries not linked, the oldest %.0f s old",
            tail.count,
            age,
            extra={"audit_unlinked": tail.count, "audit_chain_lag_seconds": age},
        )
    return result
