"""Benchmark plumbing: timing helpers, cached data sets, and the figures table.

Benchmarks print figures, they never pass or fail: each row is a measurement, a baseline measured in
the same run, their ratio, and the target the issue set. Data sets are built with COPY / bulk inserts
into a dedicated PostgreSQL database and kept between runs (a marker table records what is built).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from tqdm import tqdm


@dataclass
class Figure:
    bench: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


def scaled(rows: int) -> int:
    """A data set's size times BENCH_SCALE (default 1): `BENCH_SCALE=0.1` builds and measures
    every data set at a tenth of its size, in a database of its own, for the growth figures of the
    README's "How it grows" (100k against 1M rows)."""
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < scale <= 10:
        raise ValueError(f"BENCH_SCALE must be in (0, 10], not {scale}")
    return max(1, round(rows * scale))


@contextmanager
def captured_queries() -> Iterator[CaptureQueriesContext]:
    """Django's CaptureQueriesContext, over an emptied query log.

    It counts by the log's length, and the log keeps at most 9,000 queries (a deque): `make bench`
    runs with DEBUG on, so by the later benchmarks the log is full, stops growing, and every count
    would read 0. A log that fills again while capturing is an error, not a short count.
    """
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        yield captured
    if len(connection.queries_log) >= connection.queries_limit:
        raise RuntimeError("More queries than the query log keeps: the count would be short.")


def timed(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of `repeat` calls after `warmup` unmeasured ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index] * 1000


def spread(samples: list[float], baseline: list[float] | None = None) -> str:
    """How far the repetitions of a timed figure lie apart (seconds in, milliseconds out), so that
    a reader can tell noise from change: "median of N, spread a-b ms (baseline c-d ms)"."""

    def span(values: list[float]) -> str:
        return f"{min(values) * 1000:,.2f}-{max(values) * 1000:,.2f} ms"

    text = f"median of {len(samples)}, spread {span(samples)}"
    if baseline:
        text += f" (baseline {span(baseline)})"
    return text


def dataset_ready(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (name text PRIMARY KEY, built_at timestamptz)"
        )
        cursor.execute("SELECT 1 FROM bench_dataset WHERE name = %s", [name])
        return cursor.fetchone() is not None


def mark_dataset(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_dataset VALUES (%s, now()) ON CONFLICT (name) DO NOTHING", [name]
        )


def vacuum_analyze(*tables: str) -> None:
    """VACUUM ANALYZE `tables` (a partitioned table: every partition), as autovacuum would have.

    Benchmarks write rows their earlier runs left behind: sends into last year's partition, audit
    entries trimmed again at the end. On a server that runs autovacuum those tables are vacuumed
    and analyzed as they grow; on one that does not (this machine's PostgreSQL runs with
    `autovacuum = off`) the planner keeps the statistics of an empty partition that now holds
    half a million rows, and a thread's page took a bitmap scan over all of them (8 ms instead
    of 1.7 ms). A benchmark calls this before it measures what the planner decides.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {quote(table)}")


def explain(sql: str, params: list[object] | tuple[object, ...] = ()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def print_table(figures: list[Figure]) -> None:
    headers = ("benchmark", "measure", "value", "baseline", "ratio", "target", "note")
    rows = [
        (
            f.bench,
            f.measure,
            f"{f.value:,.2f} {f.unit}",
            "" if f.baseline is None else f"{f.baseline:,.2f} {f.unit}",
            "" if f.ratio is None else f"{f.ratio:.2f}x",
            f.target,
            f.note,
        )
        for f in figures
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


# The columns of `accounts_user` a benchmark's app users are written with (COPY).
USER_COLUMNS = (
    "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
    "is_active", "date_joined", "birthdate", "country", "status", "assurance_method",
    "assurance_level", "updated_at",
)  # fmt: skip


def ensure_users(name: str, *, prefix: str, rebuild: bool, build: Callable[[], None]) -> None:
    """Build a cached data set of app users named `name` (usernames start with `prefix`)."""
    if dataset_ready(name) and not rebuild:
        print(f"data set {name} is cached", file=sys.stderr)
        return
    family = name.rsplit("_", 1)[0] + "_%"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset WHERE name LIKE %s", [family])
        cursor.execute("DELETE FROM accounts_user WHERE username LIKE %s", [prefix + "%"])
    build()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_user")
    mark_dataset(name)


def copy_users(rows: Iterable[tuple[object, ...]], *, total: int) -> None:
    """COPY app users (tuples in USER_COLUMNS order) into `accounts_user`, with a progress bar."""
    connection.ensure_connection()
    raw = connection.connection  # the psycopg 3 connection behind Django's (autocommit) wrapper
    copy_sql = f"COPY accounts_user ({', '.join(USER_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in tqdm(
            rows, total=total, desc="accounts_user (COPY)", unit=" rows", file=sys.stderr
        ):
            copy.write_row(row)


def partitions_for_the_last(spec: object, months: int) -> None:
    """Create the monthly partitions (D32, D33) of the last `months` months and this one, so a
    data set dated back over them lands in its months, as production's would, not in DEFAULT."""
    from safety_portal.core import clock, partitions

    this_month = partitions.Month.of(clock.now())
    partitions.create_months(spec, this_month.plus(-months), this_month)  # type: ignore[arg-type]
