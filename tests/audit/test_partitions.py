"""The audit log partitioned by month (issue 14.5, D32): rows land in their month, the append-only
rules hold on every partition, months are created ahead, and a past month can be archived to a
file, detached, and still verified; a changed, shortened or missing archive is caught."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from safety_portal.core import partitions
from safety_portal.core.audit import archive
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditArchive, AuditEntry
from safety_portal.core.audit.partitioning import AUDIT_LOG
from safety_portal.core.audit.verification import verify_chain
from safety_portal.core.partitions import Month

from .conftest import verify, write_entries

pytestmark = pytest.mark.django_db

SEPTEMBER, OCTOBER, NOVEMBER = Month(2026, 9), Month(2026, 10), Month(2026, 11)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's; the SQLite demo keeps one table")


def _where(entry_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_auditentry WHERE id = %s", [entry_id]
        )
        return cursor.fetchone()[0]


def _write_in(month: Month, count: int, day: int = 10) -> list[AuditEntry]:
    with time_machine.travel(month.start + dt.timedelta(days=day - 1, hours=12), tick=False):
        return write_entries(count, action=f"tests.month_{month.year}_{month.month:02d}")


@pytest.fixture
def past_months() -> None:
    """Partitions for September to November 2026 (the migration made them from the month it ran)."""
    for month in (SEPTEMBER, OCTOBER, NOVEMBER):
        partitions.create_month(AUDIT_LOG, month)


def test_the_log_is_partitioned_by_month_with_a_default_partition() -> None:
    assert partitions.is_partitioned(AUDIT_LOG.table)
    have = partitions.partitions(AUDIT_LOG)
    assert have[-1].is_default
    months = [p.month for p in have if p.month]
    assert months == sorted(months)
    assert len(months) >= 2


def test_an_entry_lands_in_the_partition_of_its_month(past_months) -> None:
    [in_october] = _write_in(OCTOBER, 1)
    assert _where(in_october.id) == "audit_auditentry_p2026_10"


def test_an_entry_of_a_month_without_a_partition_is_kept_in_default_and_still_verifies() -> None:
    [old] = _write_in(Month(2019, 3), 1)
    assert _where(old.id) == "audit_auditentry_default"
    assert verify("--anchors", "none").code == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET reason = 'rewritten'",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
    ],
)
def test_a_partition_addressed_directly_refuses_changes(past_months, statement: str) -> None:
    _write_in(OCTOBER, 2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(t="audit_auditentry_p2026_10"))
    assert AuditEntry.objects.filter(action="tests.month_2026_10").count() == 2


def test_months_are_created_ahead_and_a_second_run_creates_nothing() -> None:
    today = dt.date(2030, 5, 20)
    first = partitions.ensure_ahead(AUDIT_LOG, today, 2)
    assert first.created == [
        "audit_auditentry_p2030_05",
        "audit_auditentry_p2030_06",
        "audit_auditentry_p2030_07",
    ]
    assert partitions.ensure_ahead(AUDIT_LOG, today, 2).created == []
    assert partitions.months_ahead_covered(AUDIT_LOG, today) == 2


def test_a_month_whose_rows_already_sit_in_default_is_reported_blocked_not_lost() -> None:
    [stray] = _write_in(Month(2031, 2), 1)
    result = partitions.ensure_ahead(AUDIT_LOG, dt.date(2031, 1, 15), 2)
    assert result.created == ["audit_auditentry_p2031_01", "audit_auditentry_p2031_03"]
    [(month, why)] = result.blocked
    assert month == Month(2031, 2)
    assert "RUNBOOK" in why
    assert _where(stray.id) == "audit_auditentry_default"


def test_the_create_partitions_command_refuses_a_bad_value() -> None:
    with pytest.raises(CommandError, match="between 0 and 24"):
        call_command("create_partitions", "--months-ahead", "-1", stdout=io.StringIO())


# --- archiving -------------------------------------------------------------------------------


@pytest.fixture
def archived(past_months, tmp_path: Path) -> tuple[Path, AuditArchive]:
    _write_in(SEPTEMBER, 5)
    _write_in(OCTOBER, 3)
    _write_in(NOVEMBER, 2)
    out = io.StringIO()
    call_command(
        "archive_audit_partition", "--month", "2026-09", "--dir", str(tmp_path), stdout=out
    )
    assert "archived audit_auditentry_p2026_09: 5 entries" in out.getvalue()
    return tmp_path, AuditArchive.objects.get()


def test_an_archived_and_detached_month_still_verifies_with_the_live_log(archived) -> None:
    directory, register = archived
    names = partitions.names(partitions.partitions(AUDIT_LOG))
    assert "audit_auditentry_p2026_09" not in names
    assert AuditEntry.objects.filter(action="tests.month_2026_09").count() == 0

    result = verify_chain(anchors="none", archive_dir=directory)

    assert result.ok, result.summary()
    # 10 written + the archive's own entry: every position, archived or live, was walked.
    assert result.checked == 11 == AuditEntry.objects.count() + register.entries
    entry = AuditEntry.objects.get(action="audit.partition.archived")
    assert entry.after["sha256"] == register.sha256
    assert (register.first_seq, register.last_seq) == (1, 5)


def test_the_detached_partition_still_refuses_changes(archived) -> None:
    for statement in ("UPDATE {t} SET reason = 'x'", "DELETE FROM {t}", "TRUNCATE {t}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement.format(t="audit_auditentry_p2026_09"))


def test_the_archive_register_cannot_be_edited(archived) -> None:
    _, register = archived
    with pytest.raises(PermissionError):
        register.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditArchive.objects.filter(pk=register.pk).update(sha256="0" * 64)


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    lines = change(lines)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _alter_reason(lines: list[str]) -> list[str]:
    row = json.loads(lines[3])
    row[list(archive.ROW_FIELDS).index("reason")] = "nothing happened here"
    lines[3] = json.dumps(row)
    return lines


def test_an_altered_archive_fails_the_full_check_and_its_own_check(archived) -> None:
    directory, register = archived
    path = directory / register.file_name
    _rewrite(path, _alter_reason)

    full = verify_chain(anchors="none", archive_dir=directory)
    assert not full.ok
    assert "changed after it was archived" in full.summary()
    alone = archive.check_file(path)
    assert alone.problem
    assert "entry #3" in alone.problem
    assert "content altered" in alone.problem
    verdict = verify("--archive", str(path))
    assert verdict.code == 1
    assert "SHA-256" in verdict.err


def test_an_archive_with_an_entry_removed_fails_its_own_check(archived) -> None:
    directory, register = archived
    path = directory / register.file_name
    _rewrite(path, lambda lines: lines[:2] + lines[3:])

    alone = archive.check_file(path)
    assert not alone.ok


def test_a_missing_archive_makes_the_check_fail_and_say_where_to_put_it(archived) -> None:
    directory, register = archived
    (directory / register.file_name).unlink()

    result = verify_chain(anchors="none", archive_dir=directory)
    assert not result.ok
    assert "put it back" in result.summary()


def test_an_untouched_archive_checks_on_its_own_against_the_register(archived) -> None:
    directory, register = archived
    verdict = verify("--archive", str(directory / register.file_name))
    assert verdict.code == 0, verdict.err
    assert "matches the register" in verdict.out


def test_months_interleaved_at_a_boundary_verify_once_merged(past_months, tmp_path) -> None:
    """The inline writer links in call order, so a clock read a moment older than another's puts
    a September entry after an October one in the chain: the archive has a gap the live table
    fills, and only the merged walk checks those links."""
    _write_in(SEPTEMBER, 2, day=29)
    _write_in(OCTOBER, 1, day=1)
    _write_in(SEPTEMBER, 1, day=30)
    _write_in(OCTOBER, 1, day=2)
    done = archive.archive_month(SEPTEMBER, actor=SystemActor("tests.archive"), directory=tmp_path)

    alone = archive.check_file(tmp_path / done.file_name, expected_sha256=done.sha256)
    assert alone.ok
    assert alone.outside == 1
    assert verify_chain(anchors="none", archive_dir=tmp_path).ok


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-12", "has not ended"),
        ("2025-01", "no attached partition"),
    ],
)
def test_a_month_that_cannot_be_archived_is_refused_with_the_reason(
    month: str, message: str, tmp_path
) -> None:
    with (
        time_machine.travel(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC), tick=False),
        pytest.raises(CommandError, match=message),
    ):
        call_command("archive_audit_partition", "--month", month, "--dir", str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_a_month_with_entries_not_linked_yet_is_refused(past_months, settings, tmp_path) -> None:
    settings.AUDIT_CHAIN_DEFERRED = True
    _write_in(OCTOBER, 1)
    with pytest.raises(archive.ArchiveRefused, match="not linked"):
        archive.archive_month(OCTOBER, actor=SystemActor("tests.archive"), directory=tmp_path)


def test_the_month_that_holds_the_chain_head_is_refused(past_months, tmp_path) -> None:
    """Writers and the chainer read the head in the live table; detaching it would fork."""
    _write_in(OCTOBER, 2)
    with pytest.raises(archive.ArchiveRefused, match="newest linked entry"):
        archive.archive_month(OCTOBER, actor=SystemActor("tests.archive"), directory=tmp_path)
    assert "audit_auditentry_p2026_10" in partitions.names(partitions.partitions(AUDIT_LOG))


def test_after_archiving_the_next_entry_extends_the_chain_without_a_fork(archived) -> None:
    directory, register = archived
    [after] = write_entries(1)
    assert after.seq == AuditEntry.objects.count() + register.entries
    assert verify_chain(anchors="none", archive_dir=directory).ok
