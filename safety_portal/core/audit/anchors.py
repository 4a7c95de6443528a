"""External anchors for the audit chain (issue 7): the chain head, written outside the database.

The hash chain proves that no entry was altered in place, but someone with superuser rights on the
database could delete the newest entries, or rewrite a whole suffix of the chain with fresh hashes,
and the chain would still link. An anchor is the head (seq, entry id, hash, time) copied every hour
to stores the database cannot touch; `verify_audit_log` then requires every anchored entry to still
carry the anchored hash and the chain to be at least as long as the newest anchor.

Two stores, written by the same task:

* **Redis stream** `audit:anchors` (when `REDIS_URL` is set) — the authoritative store. It is shared
  by every worker and web host (the hourly task may run on any worker, and the command on any host),
  it lives on a different server from PostgreSQL, and each anchor is added with the explicit stream
  id `<seq>-0`, so Redis itself refuses an anchor that does not move the head forward. In production
  the application's Redis user is granted only `XADD`, `XRANGE`, `XREVRANGE` on that key (no `XDEL`,
  `XTRIM`, `DEL`), and Redis runs with append-only persistence, so the application cannot rewrite
  the anchors it wrote.
* **Append-only file** `settings.AUDIT_ANCHOR_FILE` — one JSON line per anchor, opened `O_APPEND`,
  flushed with `fsync`. It is the witness on the host that ran the task (ship it to log storage, or
  `chattr +a` it), and the only store in the embedded demo, which has no Redis.

Verification reads both and treats a disagreement in either as a failure: an anchor is evidence,
and evidence that contradicts the database is never outvoted. Writing is idempotent per store:
anchoring a head that a store already holds writes nothing to it, so a retry after one store failed
fills in only that store.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connection

from safety_portal.core import clock

from .models import AuditEntry

logger = logging.getLogger(__name__)

DEFAULT_STREAM_KEY = "audit:anchors"
_TAIL_BYTES = 8192


class AnchorError(Exception):
    """An anchor store cannot be read or written (missing server, unreadable file)."""


class AnchorStoreUnavailable(AnchorError):
    """A transient failure: the store may work on the next attempt (the task retries)."""


class AnchorConflict(AnchorError):
    """A store already holds an anchor the current chain contradicts (same seq, other hash, or a
    newer seq than the chain has). This is evidence of tampering; it is never papered over."""


class CorruptAnchor(AnchorError):
    """A store holds something that is not a well-formed anchor."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    entry_id: int
    hash: str
    anchored_at: str
    # The database the anchored chain lives in: an anchor checked against another database's
    # chain (a shared dev file, a restored copy) then says so in the mismatch message.
    database: str = ""
    source: str = field(default="", compare=False)

    def describe(self) -> str:
        where = f" in {self.source}" if self.source else ""
        of = f" (database {self.database})" if self.database else ""
        return f"the anchor of {self.anchored_at}{of}{where}"

    def as_record(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        return data

    def same_head(self, other: Anchor) -> bool:
        return (self.seq, self.entry_id, self.hash) == (other.seq, other.entry_id, other.hash)

    @classmethod
    def from_record(cls, data: Any, *, source: str) -> Anchor:
        try:
            anchor = cls(
                seq=int(data["seq"]),
                entry_id=int(data["entry_id"]),
                hash=str(data["hash"]),
                anchored_at=str(data["anchored_at"]),
                database=str(data.get("database", "")),
                source=source,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptAnchor(f"{source}: not a valid anchor ({exc!r})") from exc
        if anchor.seq < 1 or len(anchor.hash) != 64:
            raise CorruptAnchor(f"{source}: not a valid anchor (seq {anchor.seq}, hash length)")
        return anchor


class AnchorStore(Protocol):
    name: str

    def last(self) -> Anchor | None: ...

    def append(self, anchor: Anchor) -> bool: ...

    def read_all(self) -> Iterator[Anchor]: ...


def _check_forward(store: str, last: Anchor | None, head: Anchor) -> bool:
    """True when `head` must be written after `last`; False when it is already there."""
    if last is None or last.seq < head.seq:
        return True
    if last.same_head(head):
        return False
    if last.seq == head.seq:
        raise AnchorConflict(
            f"{store}: #{head.seq} was anchored with hash {last.hash[:16]}…, the chain now has "
            f"{head.hash[:16]}… (history rewritten)"
        )
    raise AnchorConflict(
        f"{store}: the newest anchor records #{last.seq} but the chain ends at #{head.seq} "
        "(entries removed from the end of the chain)"
    )


class FileAnchorStore:
    """One JSON line per anchor in a file that is only ever opened for appending."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = f"file {self.path}"

    def _open_for_append(self) -> int:
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def _tail(self, fd: int) -> tuple[bytes, int]:
        size = os.fstat(fd).st_size
        start = max(0, size - _TAIL_BYTES)
        return os.pread(fd, size - start, start), size

    def _last_from_tail(self, tail: bytes) -> Anchor | None:
        lines = [line for line in tail.split(b"\n") if line.strip()]
        if not lines:
            return None
        try:
            return Anchor.from_record(json.loads(lines[-1]), source=self.name)
        except (CorruptAnchor, ValueError):
            # A torn last line (crash mid-write) must not block new anchors; verification
            # reports it, line number and all.
            return None

    def last(self) -> Anchor | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorStoreUnavailable(f"{self.name}: {exc}") from exc
        try:
            return self._last_from_tail(self._tail(fd)[0])
        finally:
            os.close(fd)

    def append(self, anchor: Anchor) -> bool:
        line = json.dumps(anchor.as_record(), sort_keys=True, separators=(",", ":")).encode()
        try:
            fd = self._open_for_append()
        except OSError as exc:
            raise AnchorStoreUnavailable(f"{self.name}: {exc}") from exc
        try:
            # Two tasks anchoring at once: the lock makes "read the last line, then append"
            # one step, so the second finds the first's line and writes nothing.
            fcntl.flock(fd, fcntl.LOCK_EX)
            tail, size = self._tail(fd)
            if not _check_forward(self.name, self._last_from_tail(tail), anchor):
                return False
            prefix = b"\n" if size and not tail.endswith(b"\n") else b""
            os.write(fd, prefix + line + b"\n")
            os.fsync(fd)
            return True
        except OSError as exc:
            raise AnchorStoreUnavailable(f"{self.name}: {exc}") from exc
        finally:
            os.close(fd)  # releases the lock

    def read_all(self) -> Iterator[Anchor]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AnchorStoreUnavailable(f"{self.name}: {exc}") from exc
        with handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                source = f"{self.name} line {number}"
                try:
                    data = json.loads(raw)
                except ValueError as exc:
                    raise CorruptAnchor(f"{source}: not JSON ({exc})") from exc
                yield Anchor.from_record(data, source=source)


class RedisAnchorStore:
    """A Redis stream whose entry ids are `<seq>-0`: Redis refuses an id that does not grow."""

    def __init__(self, url: str, key: str = DEFAULT_STREAM_KEY) -> None:
        self.url = url
        self.key = key
        self.name = f"redis stream {key}"

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(
            self.url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True
        )

    def _anchor(self, stream_id: str, fields: dict[str, str]) -> Anchor:
        source = f"{self.name} id {stream_id}"
        anchor = Anchor.from_record(fields, source=source)
        if stream_id != f"{anchor.seq}-0":
            raise CorruptAnchor(f"{source}: stream id does not match seq {anchor.seq}")
        return anchor

    def _call(self, fn: Any) -> Any:
        import redis

        client = self._client()
        try:
            return fn(client)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise AnchorStoreUnavailable(f"{self.name}: {exc}") from exc
        finally:
            client.close()

    def last(self) -> Anchor | None:
        rows = self._call(lambda r: r.xrevrange(self.key, count=1))
        return self._anchor(*rows[0]) if rows else None

    def append(self, anchor: Anchor) -> bool:
        import redis

        if not _check_forward(self.name, self.last(), anchor):
            return False
        fields = {k: str(v) for k, v in anchor.as_record().items()}
        try:
            self._call(lambda r: r.xadd(self.key, fields, id=f"{anchor.seq}-0"))
        except redis.ResponseError as exc:
            # Refused because the stream already reached this id: another run got here first
            # (fine if it wrote the same head), or an anchor was deleted (never fine).
            last = self.last()
            if last is not None and last.same_head(anchor):
                return False
            raise AnchorConflict(
                f"{self.name}: Redis refused #{anchor.seq} ({exc}); the stream has moved past it "
                f"but its newest anchor is {last.seq if last else 'absent'} (anchors deleted?)"
            ) from exc
        return True

    def read_all(self) -> Iterator[Anchor]:
        start = "-"
        while True:
            rows = self._call(lambda r, s=start: r.xrange(self.key, min=s, count=1000))
            if not rows:
                return
            for stream_id, fields in rows:
                yield self._anchor(stream_id, fields)
            start = "(" + rows[-1][0]


def configured_stores() -> list[AnchorStore]:
    """The file always; the Redis stream when REDIS_URL is set (the stream is authoritative)."""
    stores: list[AnchorStore] = []
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        key = getattr(settings, "AUDIT_ANCHOR_STREAM", DEFAULT_STREAM_KEY)
        stores.append(RedisAnchorStore(redis_url, key))
    stores.append(FileAnchorStore(settings.AUDIT_ANCHOR_FILE))
    return stores


def current_head() -> Anchor | None:
    """The newest linked entry as an anchor (None while the chain is empty). Entries the deferred
    chainer has not linked yet (D23) are not part of the chain and are not anchored."""
    row = (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "id", "hash")
        .first()
    )
    if row is None:
        return None
    return Anchor(
        seq=row[0],
        entry_id=row[1],
        hash=row[2],
        anchored_at=clock.now().isoformat(),
        database=str(connection.settings_dict.get("NAME") or ""),
    )


@dataclass
class AnchorOutcome:
    head: Anchor | None
    written: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "head": self.head.as_record() if self.head else None,
            "written": self.written,
            "already": self.already,
        }


def anchor_chain(*, stores: list[AnchorStore] | None = None) -> AnchorOutcome:
    """Write the chain head to every store that does not hold it yet (issue 7).

    Every store is attempted even when one fails; then a conflict (tampering evidence) is raised
    before an unavailable store (worth a retry), so the alarm is never hidden behind an outage.
    """
    stores = configured_stores() if stores is None else stores
    head = current_head()
    outcome = AnchorOutcome(head=head)
    if head is None:
        return outcome
    failures: list[AnchorError] = []
    for store in stores:
        try:
            wrote = store.append(head)
        except AnchorError as exc:
            logger.error("audit anchor not written to %s: %s", store.name, exc)
            failures.append(exc)
            continue
        (outcome.written if wrote else outcome.already).append(store.name)
    if failures:
        conflicts = [f for f in failures if isinstance(f, AnchorConflict)]
        raise (conflicts or failures)[0]
    return outcome


def load_anchors(stores: list[AnchorStore]) -> dict[int, list[Anchor]]:
    """Every anchor of every store, by seq, for `ChainVerifier`."""
    by_seq: dict[int, list[Anchor]] = {}
    for store in stores:
        for anchor in store.read_all():
            by_seq.setdefault(anchor.seq, []).append(anchor)
    return by_seq
