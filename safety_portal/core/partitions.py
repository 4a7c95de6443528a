"""Monthly range partitions for the tables that never stop growing (issue 14.5, decisions D32).

A partitioned table here is split by calendar month (UTC) of one timestamp column, with PostgreSQL's
declarative partitioning. Why months: an old month is the unit an operator archives and detaches
(the audit log) or moves to cheaper storage, and a month of this platform's writes is an index size
that stays in memory. Each table keeps a DEFAULT partition as a safety net: a row whose month has no
partition yet (the job that creates them ahead stopped, or a clock far off) is still written, never
refused, and the job reports the month it can no longer create as an alert instead.

PostgreSQL only. The embedded SQLite demo keeps plain tables; every function here is a no-op there.

What this module knows is the mechanism only; which tables are partitioned, and what each
partition needs on top (the audit log's TRUNCATE trigger), is said by the table's owner app through
a `MonthlyTable` (core.audit.partitioning, messaging.partitioning), and the roof's job walks them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.utils import DatabaseError

_NAME = re.compile(r"_p(\d{4})_(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, not {self.month}")

    @classmethod
    def of(cls, day: dt.date | dt.datetime) -> Month:
        if isinstance(day, dt.datetime):
            day = day.astimezone(dt.UTC).date() if day.tzinfo else day.date()
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-01' (what an operator types) to a Month; ValueError says what is expected."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match:
            raise ValueError(f"a month is written YYYY-MM, e.g. 2026-01, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    def plus(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.plus(1).start

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class MonthlyTable:
    """A table partitioned by month of `column`.

    `per_partition_sql` is run for each new partition with `{partition}` replaced by its quoted
    name: what PostgreSQL does not carry from the parent to a partition by itself (statement-level
    triggers such as the audit log's TRUNCATE refusal are not cloned; row triggers and indexes are).
    """

    table: str
    column: str
    per_partition_sql: str = ""

    def partition_name(self, month: Month) -> str:
        return f"{self.table}_p{month.year:04d}_{month.month:02d}"

    @property
    def default_name(self) -> str:
        return f"{self.table}_default"


@dataclass(frozen=True)
class Partition:
    name: str
    month: Month | None  # None for the DEFAULT partition

    @property
    def is_default(self) -> bool:
        return self.month is None


@dataclass
class Ensured:
    """What one run of the job did for one table."""

    table: str
    created: list[str] = field(default_factory=list)
    # Months whose rows already sit in the DEFAULT partition: the partition cannot be created
    # until an operator moves them (deploy/RUNBOOK.md); an alert, not a failure of the writes.
    blocked: list[tuple[Month, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "created": self.created,
            "blocked": [f"{month}: {why}" for month, why in self.blocked],
        }


def supported() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def is_partitioned(table: str) -> bool:
    if not supported():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partitions(spec: MonthlyTable) -> list[Partition]:
    """The table's attached partitions, months in order, the DEFAULT one last (none for a plain
    table, which has no children in pg_inherits)."""
    if not supported():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relpartbound IS NOT NULL AND pg_get_expr(c.relpartbound, c.oid)"
            " = 'DEFAULT' FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s)",
            [spec.table],
        )
        rows = cursor.fetchall()
    found = []
    for name, is_default in rows:
        if is_default:
            found.append(Partition(name, None))
            continue
        match = _NAME.search(name)
        if match is None:
            raise RuntimeError(f"partition {name} of {spec.table} is not named by its month")
        found.append(Partition(name, Month(int(match[1]), int(match[2]))))
    return sorted(found, key=lambda p: (p.month is None, p.month or Month(1, 1)))


class PartitionBlocked(Exception):
    """The month's rows are already in the DEFAULT partition."""


def create_month(spec: MonthlyTable, month: Month) -> bool:
    """Create the month's partition (and what each partition needs); False if it exists."""
    name = spec.partition_name(month)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        try:
            # A savepoint: a refusal (rows of that month in DEFAULT) must not end the caller's
            # transaction, and the next month can still be tried.
            with transaction.atomic():
                cursor.execute(
                    f"CREATE TABLE {_q(name)} PARTITION OF {_q(spec.table)} "
                    "FOR VALUES FROM (%s) TO (%s)",
                    [month.start, month.end],
                )
                if spec.per_partition_sql:
                    cursor.execute(spec.per_partition_sql.format(partition=_q(name)))
        except DatabaseError as exc:
            if "default partition" in str(exc):
                raise PartitionBlocked(
                    f"rows of {month} are already in {spec.default_name}; move them into a new "
                    f"partition as in deploy/RUNBOOK.md, then run create_partitions again"
                ) from exc
            raise
    return True


def create_months(spec: MonthlyTable, first: Month, last: Month) -> Ensured:
    """Every month from `first` to `last` has its partition afterwards, except those blocked by
    rows already in DEFAULT, which are reported (idempotent; nothing on a plain table)."""
    result = Ensured(spec.table)
    if not is_partitioned(spec.table):
        return result
    month = first
    while month <= last:
        try:
            if create_month(spec, month):
                result.created.append(spec.partition_name(month))
        except PartitionBlocked as exc:
            result.blocked.append((month, str(exc)))
        month = month.plus(1)
    return result


def ensure_ahead(spec: MonthlyTable, today: dt.date, months_ahead: int) -> Ensured:
    """Make sure this month and the next `months_ahead` months have partitions (idempotent)."""
    if months_ahead < 0:
        raise ValueError(f"months ahead must be 0 or more, not {months_ahead}")
    this_month = Month.of(today)
    return create_months(spec, this_month, this_month.plus(months_ahead))


def months_ahead_covered(
    spec: MonthlyTable, today: dt.date, attached: list[Partition] | None = None
) -> int:
    """How many whole months after the current one already have a partition (the metric an
    alert watches: 0 means next month's rows would fall into DEFAULT; -1, even this month's)."""
    have = {p.month for p in (partitions(spec) if attached is None else attached) if p.month}
    month, ahead = Month.of(today), 0
    if month not in have:
        return -1
    while month.plus(ahead + 1) in have:
        ahead += 1
    return ahead


def default_rows(spec: MonthlyTable, cap: int = 10_000) -> int:
    """Rows waiting in the DEFAULT partition (counted up to `cap`: it should hold none). Call it
    for a table that has one (`partitions()` lists it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {_q(spec.default_name)} LIMIT %s) AS r", [cap]
        )
        return int(cursor.fetchone()[0])


# --- converting an existing plain table (a migration step) ---------------------------------


def _index_definitions(table: str) -> list[tuple[str, str, bool]]:
    """(name, definition, is the primary key) of each index of `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisprimary"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = to_regclass(%s) ORDER BY i.relname",
            [table],
        )
        return list(cursor.fetchall())


def _partitioned_definition(definition: str, column: str) -> str:
    """A unique index on a partitioned table must hold the partition key: add it at the end of
    the column list (the only change; a value stays unique within its month's partition)."""
    if not definition.startswith("CREATE UNIQUE INDEX"):
        return definition
    head, sep, tail = definition.partition(") WHERE ")
    if sep:
        return f"{head}, {column}){sep}{tail}"
    if not definition.endswith(")"):
        raise RuntimeError(f"cannot add the partition key to {definition}")
    return f"{definition[:-1]}, {column})"


def _foreign_keys(table: str, *, referencing: bool) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys out of `table`, or into it."""
    side = "confrelid" if referencing else "conrelid"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            f" FROM pg_constraint WHERE contype = 'f' AND {side} = to_regclass(%s)"
            " ORDER BY conname",
            [table],
        )
        return list(cursor.fetchall())


def _rename_sequence(table: str, pk: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
        current = cursor.fetchone()[0]
        wanted = f"{table}_{pk}_seq"
        if current and current.split(".")[-1].strip('"') != wanted:
            cursor.execute(f"ALTER SEQUENCE {current} RENAME TO {_q(wanted)}")


def convert(spec: MonthlyTable, *, months_ahead: int, today: dt.date, pk: str = "id") -> None:
    """Turn the plain table `spec.table` into a partitioned one with the same rows, columns,
    defaults, identity, foreign keys and indexes (unique ones widened by the partition key), and
    the primary key (`pk`, `column`). Triggers are the caller's to recreate: they are the table's
    own rules. A foreign key *into* the table cannot survive (it would have to name the partition
    key too); the caller drops or replaces those first, and this refuses while any is left.

    One statement sequence in the migration's transaction, so a failure leaves the old table.
    """
    table, column = spec.table, spec.column
    incoming = _foreign_keys(table, referencing=True)
    if incoming:
        names_ = ", ".join(f"{t}.{n}" for t, n, _ in incoming)
        raise RuntimeError(f"{table} is referenced by foreign keys ({names_}); replace them first")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min({_q(column)}) FROM {_q(table)}")
        oldest = cursor.fetchone()[0]

    def months_and_default() -> None:
        first = Month.of(oldest) if oldest is not None else Month.of(today)
        create_months(spec, first, Month.of(today).plus(months_ahead))
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {_q(spec.default_name)} PARTITION OF {_q(table)} DEFAULT")
            if spec.per_partition_sql:
                cursor.execute(spec.per_partition_sql.format(partition=_q(spec.default_name)))

    _rebuild(
        table,
        suffix="unpartitioned",
        shape=f" PARTITION BY RANGE ({_q(column)})",
        before_rows=months_and_default,
        key=(pk, column),
        index_sql=lambda definition: _partitioned_definition(definition, column),
    )


def unconvert(spec: MonthlyTable, *, pk: str = "id") -> None:
    """The reverse migration: one plain table again, every attached partition's rows in it."""
    widened = f", {spec.column})"

    def narrowed(definition: str) -> str:
        if definition.startswith("CREATE UNIQUE INDEX"):
            return definition.replace(widened, ")", 1)
        return definition

    _rebuild(
        spec.table,
        suffix="partitioned",
        shape="",
        before_rows=lambda: None,
        key=(pk,),
        index_sql=narrowed,
        cascade=True,  # the partitioned table set aside, with its partitions
    )


def _rebuild(
    table: str,
    *,
    suffix: str,
    shape: str,
    before_rows: Callable[[], None],
    key: tuple[str, ...],
    index_sql: Callable[[str], str],
    cascade: bool = False,
) -> None:
    """Both directions of the migration: move `table` aside (renamed with `suffix`, as are its
    indexes), create it again (`shape`: the PARTITION BY clause, or nothing), copy the rows, drop
    the old one, then put back its primary key (`key`), its indexes (each definition through
    `index_sql`) and its foreign keys out, and take statistics for the rows just copied."""
    indexes = [(n, d) for n, d, primary in _index_definitions(table) if not primary]
    outgoing = _foreign_keys(table, referencing=False)
    aside, pk = f"{table}_{suffix}", key[0]
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(aside)}")
        for name, _ in indexes:
            cursor.execute(f"ALTER INDEX {_q(name)} RENAME TO {_q(f'{name}_{suffix}')}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} (LIKE {_q(aside)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
            f" INCLUDING IDENTITY INCLUDING GENERATED){shape}"
        )
        before_rows()
        cursor.execute(f"INSERT INTO {_q(table)} OVERRIDING SYSTEM VALUE SELECT * FROM {_q(aside)}")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, %s), "
            f"coalesce((SELECT max({_q(pk)}) FROM {_q(table)}), 0) + 1, false)",
            [table, pk],
        )
        cursor.execute(f"DROP TABLE {_q(aside)}{' CASCADE' if cascade else ''}")
        columns = ", ".join(_q(c) for c in key)
        cursor.execute(
            f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY ({columns})"
        )
        for _, definition in indexes:
            cursor.execute(index_sql(definition))
        for _, name, definition in outgoing:
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    _rename_sequence(table, pk)
    _analyze(table)


def _analyze(table: str) -> None:
    """Statistics for the rows just copied: a new table has none until autovacuum gets to it,
    and until then the planner guesses (on the messaging bench, a thread's first page read every
    month's index of visible messages instead of the thread's index, four times slower).
    Autovacuum never analyzes a partitioned parent itself; ANALYZE of the parent does every
    partition too."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_q(table)}")


def detach(spec: MonthlyTable, month: Month) -> str:
    """Detach the month's partition from the table (it stays, as a table of its own)."""
    name = spec.partition_name(month)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {_q(spec.table)} DETACH PARTITION {_q(name)}")
    return name


def names(parts: Iterable[Partition]) -> list[str]:
    return [p.name for p in parts]
