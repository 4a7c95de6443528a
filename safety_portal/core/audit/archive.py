"""Archiving an old month of the audit log to a file, and reading it back (issue 14.5, D32).

An archive is one gzip-compressed JSON-lines file: a header line (which month, how many entries,
the chain positions it holds, the chain head when it was written: its anchor), then one line per
entry in `seq` order, each the verifier's row (`chain.ROW_FIELDS`) as the database stored it.
Archiving is: write the file, check it against the partition, then, in one transaction, check again
under a lock that nothing was added to the month, detach the partition, put the append-only
triggers back on the detached table, and write the register row and an audit entry. The file's
SHA-256 is in both, so `verify_audit_log` refuses a file that changed after it was written.

The chain is not cut by an archive: `verification.verify_chain` walks the live table and every
archive merged by `seq`, so an archived month is checked exactly as if it were still attached.
Months can interleave by a few entries at a boundary (the chainer links in transaction order, a
writer's clock read can be a moment older than another's), and the merge handles that.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from safety_portal.core import clock, partitions
from safety_portal.core.partitions import Month

from . import record, triggers
from .actors import identify
from .chain import HASHED_FIELDS, ROW_FIELDS, compute_hash, hashed_ip, hashed_time
from .models import AuditArchive, AuditEntry
from .partitioning import AUDIT_LOG

FORMAT = "safety-portal-audit-archive/1"
_CREATED = ROW_FIELDS.index("created_at")


class ArchiveRefused(ValueError):
    """The month cannot be archived now; the message says why and what to do."""


@dataclass
class ArchiveCheck:
    """What reading one archive file found."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    entries: int = 0
    # Positions missing between two of the file's entries: held by a neighbouring month, so only
    # the full walk (live table and every archive) can check those links.
    outside: int = 0
    sha256: str = ""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem:
            return f"archive {self.path.name} FAILED: {self.problem}"
        note = f"; {self.outside} link(s) cross into a neighbouring month" if self.outside else ""
        return (
            f"archive {self.path.name} intact: {self.entries:,} entries of "
            f"{self.header.get('month')}, #{self.header.get('first_seq')}.."
            f"#{self.header.get('last_seq')}{note}; sha256 {self.sha256[:16]}…"
        )


def archive_dir() -> Path:
    return Path(settings.AUDIT_ARCHIVE_DIR)


def _row_json(row: Sequence[Any]) -> list[Any]:
    values = list(row)
    values[_CREATED] = hashed_time(values[_CREATED])
    return values


def _row_from_json(values: list[Any]) -> tuple[Any, ...]:
    if len(values) != len(ROW_FIELDS):
        raise ValueError(f"an entry line has {len(values)} fields, not {len(ROW_FIELDS)}")
    values[_CREATED] = dt.datetime.fromisoformat(values[_CREATED])
    return tuple(values)


def _lines(path: Path) -> Iterator[Any]:
    """The file's lines, decoded: the header first, then one entry each."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def read_rows(path: Path, lines: Iterator[Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """The entries of an archive file as verifier rows, in file order (the header skipped,
    unless the caller already took it from `lines`)."""
    if lines is None:
        lines = _lines(path)
        next(lines, None)
    for values in lines:
        yield _row_from_json(values)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, *, expected_sha256: str | None = None) -> ArchiveCheck:
    """Read an archive on its own: every entry's hash against its fields, every link between
    consecutive positions, the order, and the header's counts and last hash. With
    `expected_sha256` (the register's), a file changed in any byte is refused first."""
    result = ArchiveCheck(path)
    try:
        result.sha256 = file_sha256(path)
    except OSError as exc:
        result.problem = f"cannot read the file ({exc.strerror})"
        return result
    if expected_sha256 is not None and result.sha256 != expected_sha256:
        result.problem = (
            "the file changed after it was archived: its SHA-256 is not the one recorded "
            f"({result.sha256[:16]}… against {expected_sha256[:16]}…)"
        )
        return result
    try:
        lines = _lines(path)  # one pass: the header, then the entries
        result.header = next(lines)
        if not isinstance(result.header, dict) or result.header.get("format") != FORMAT:
            result.problem = f"not an audit archive of format {FORMAT}"
            return result
        result.problem = _walk(result, read_rows(path, lines))
    except (OSError, EOFError, ValueError, KeyError, StopIteration) as exc:
        result.problem = f"unreadable: {exc}"
    return result


def _walk(result: ArchiveCheck, rows: Iterator[tuple[Any, ...]]) -> str | None:
    prev_seq, prev_hash = None, None
    for row in rows:
        seq, stored = row[1], row[-1]
        payload = dict(zip(HASHED_FIELDS, row[1:-1], strict=True))
        payload["created_at"] = hashed_time(payload["created_at"])
        payload["ip"] = hashed_ip(payload["ip"])
        if compute_hash(payload) != stored:
            return f"entry #{seq} (id {row[0]}): content altered, its hash does not match"
        if prev_seq is not None and seq <= prev_seq:
            return f"entry #{seq}: out of order after #{prev_seq}"
        if prev_seq is not None and seq == prev_seq + 1 and payload["prev_hash"] != prev_hash:
            return f"entry #{seq}: link broken, prev_hash is not the hash of #{prev_seq}"
        if prev_seq is not None and seq > prev_seq + 1:
            result.outside += seq - prev_seq - 1
        if prev_seq is None and seq != result.header.get("first_seq"):
            return f"the first entry is #{seq}, the header says #{result.header.get('first_seq')}"
        prev_seq, prev_hash = seq, stored
        result.entries += 1
    if result.entries != result.header.get("entries"):
        return (
            f"holds {result.entries:,} entries, the header says {result.header.get('entries'):,} "
            "(entries removed or added)"
        )
    if prev_seq != result.header.get("last_seq") or prev_hash != result.header.get("last_hash"):
        return "the last entry is not the one the header names (entries removed at the end)"
    return None


def _month_rows(month: Month) -> Any:
    return (
        AuditEntry.objects.filter(created_at__gte=month.start, created_at__lt=month.end)
        .order_by("seq")
        .values_list(*ROW_FIELDS)
    )


def _refuse_unless_archivable(month: Month, today: dt.date) -> str:
    if not partitions.is_partitioned(AUDIT_LOG.table):
        raise ArchiveRefused("this database keeps the audit log in one table (SQLite): no months")
    if month >= Month.of(today):
        raise ArchiveRefused(f"{month} has not ended yet; only a past month can be archived")
    name = AUDIT_LOG.partition_name(month)
    attached = partitions.names(partitions.partitions(AUDIT_LOG))
    if name not in attached:
        months = ", ".join(n for n in attached if not n.endswith("_default")) or "none"
        raise ArchiveRefused(f"no attached partition {name} (attached: {months})")
    unlinked = _month_rows(month).filter(seq__isnull=True).count()
    if unlinked:
        raise ArchiveRefused(
            f"{unlinked:,} entries of {month} are not linked into the chain yet; run "
            "link_audit_chain (or wait for the chainer) and archive again"
        )
    _refuse_if_it_holds_the_head(month)
    return name


def _head() -> tuple[int, str] | None:
    return (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )


def _refuse_if_it_holds_the_head(month: Month) -> None:
    """The chain head must stay in the live table: the writer and the chainer read it there to
    link the next entry, and a head detached with its month would let them start a fork."""
    head = _head()
    if head is not None and _month_rows(month).filter(seq=head[0]).exists():
        raise ArchiveRefused(
            f"{month} holds the newest linked entry (#{head[0]}); archive it once a newer entry "
            "is linked (the chainer links within seconds of the next audited change)"
        )


def _write(path: Path, header: dict[str, Any], rows: Iterator[Sequence[Any]]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as raw:
        # mtime 0: the same month archived twice gives the same bytes, so the same SHA-256.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write((json.dumps(header, sort_keys=True) + "\n").encode())
            for row in rows:
                line = json.dumps(_row_json(row), ensure_ascii=False, separators=(",", ":"))
                handle.write((line + "\n").encode())
        raw.flush()
        os.fsync(raw.fileno())
    partial.rename(path)


def archive_month(
    month: Month,
    *,
    actor: object,
    directory: Path | None = None,
    drop: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> AuditArchive:
    """Archive one past month of the log and detach its partition (see the module docstring).

    Raises ArchiveRefused with what to do when the month cannot be archived; on any failure the
    partition stays attached and no file or register row is left behind.
    """
    name = _refuse_unless_archivable(month, clock.today())
    directory = directory or archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.jsonl.gz"
    if path.exists() or AuditArchive.objects.filter(partition=name).exists():
        raise ArchiveRefused(f"{path} or a register row for {name} already exists")
    rows = _month_rows(month)
    first = rows.values_list("seq", "prev_hash").first()
    last = rows.order_by("-seq").values_list("seq", "hash").first()
    head = _head()
    header = {
        "format": FORMAT,
        "table": AUDIT_LOG.table,
        "partition": name,
        "month": str(month),
        "from": month.start.isoformat(),
        "to": month.end.isoformat(),
        "entries": rows.count(),
        "first_seq": first[0] if first else None,
        "first_prev_hash": first[1] if first else None,
        "last_seq": last[0] if last else None,
        "last_hash": last[1] if last else None,
        "head_seq": head[0] if head else None,
        "head_hash": head[1] if head else None,
        "database": connection.settings_dict.get("NAME", ""),
        "archived_at": clock.now().isoformat(),
    }

    def counted() -> Iterator[Sequence[Any]]:
        with transaction.atomic():  # streams without WITH HOLD
            for done, row in enumerate(rows.iterator(chunk_size=5_000), start=1):
                if on_progress is not None and done % 5_000 == 0:
                    on_progress(done)
                yield row

    try:
        _write(path, header, counted())
        check = check_file(path)
        if not check.ok:
            raise RuntimeError(f"the archive written does not verify: {check.problem}")
        with transaction.atomic():
            with connection.cursor() as cursor:
                # SHARE: nobody can add an entry to the month between the count and the detach.
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(name)} IN SHARE MODE")
            if rows.count() != header["entries"]:
                raise ArchiveRefused(f"{month} gained entries while it was archived; run again")
            _refuse_if_it_holds_the_head(month)
            archive = AuditArchive.objects.create(
                partition=name,
                month_start=month.start,
                month_end=month.end,
                file_name=path.name,
                sha256=check.sha256,
                entries=header["entries"],
                first_seq=header["first_seq"],
                last_seq=header["last_seq"],
                head_seq=header["head_seq"],
                head_hash=header["head_hash"] or "",
                archived_at=clock.now(),
                archived_by=identify(actor).label[:150],
            )
            record(
                actor=actor,
                action="audit.partition.archived",
                target_type="audit.partition",
                target_id=name,
                target_label=f"audit log {month}",
                after={
                    "file": path.name,
                    "sha256": check.sha256,
                    "entries": header["entries"],
                    "first_seq": header["first_seq"],
                    "last_seq": header["last_seq"],
                    "last_hash": header["last_hash"],
                    "dropped": drop,
                },
            )
            # Detached last: the entry above read the chain head with the month attached.
            partitions.detach(AUDIT_LOG, month)
            with connection.cursor() as cursor:
                quoted = connection.ops.quote_name(name)
                # Its own TRUNCATE refusal stays with it; the cloned row triggers do not.
                cursor.execute(triggers.DETACHED.format(partition=quoted))
                if drop:
                    cursor.execute(f"DROP TABLE {quoted}")
    except BaseException:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".partial").unlink(missing_ok=True)
        raise
    return archive


def registered_rows(
    directory: Path | None = None,
) -> tuple[list[Iterator[tuple[Any, ...]]], str | None]:
    """An iterator of rows per registered archive, for the full walk; or the first problem (a file
    missing or changed since it was archived), which makes the walk fail."""
    directory = directory or archive_dir()
    streams = []
    for archive in AuditArchive.objects.order_by("first_seq"):
        path = directory / archive.file_name
        if not path.exists():
            return [], (
                f"archive {archive.file_name} of {archive.partition} is not in {directory}: "
                "put it back, or set AUDIT_ARCHIVE_DIR to where it is, and verify again"
            )
        digest = file_sha256(path)
        if digest != archive.sha256:
            return [], (
                f"archive {archive.file_name} changed after it was archived: its SHA-256 is not "
                "the one recorded"
            )
        streams.append(read_rows(path))
    return streams, None
