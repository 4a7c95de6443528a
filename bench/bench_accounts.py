"""Age queries on 1,000,000 users: the birthdate index serves them; the ORM against hand-written SQL.

Issue 2: `User.objects.minors/adults/in_tier/turning/below_minimum_age` are answered in SQL with
birthdate ranges (POLICY.md §1). For each one this benchmark prints the PostgreSQL plans (EXPLAIN
ANALYZE of the ORM's SQL, of its `.count()` and of the hand-written count) and three medians, each
against hand-written SQL that says the same thing with PostgreSQL's own date arithmetic
(`birthdate > (date - interval 'n years')::date`); it first checks that all return the same rows:

- database: the ORM's SQL run on a raw cursor against the hand-written SQL, same fetch. This is
  the cost of the query shape, which is what the birthdate ranges are for (target <= 1.2x);
- ids: the queryset evaluated end to end (`list(qs.values_list("id", flat=True))`);
- count: `.count()` end to end.
The last two include Django's fixed cost (building and compiling the query, a few hundred
microseconds) and, for ids, its per-row iteration; the notes print that overhead in microseconds,
because on a sub-millisecond query it, not the SQL, decides the ratio.

Minors and adults each match a large share of the table (about a quarter and three quarters here):
for those PostgreSQL may rightly prefer a bitmap or sequential scan to walking the index, so they
are also measured as `.count()` (an index-only scan) and as a selective variant (minors or adults
in one small country, via the `(country, birthdate)` index). The printed plans say which path was
taken; nothing is forced.

Data: 1,000,000 app users built once with COPY (psycopg) and cached (`bench_dataset`); birthdates
follow an app-like age mix (teens and young adults weighted), over fourteen countries. Options:
`--users N`, `--repeat N` (minimum paired samples), `--rebuild`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.test.utils import override_settings

from accounts.models import User
from bench.harness import (
    Figure,
    captured_queries,
    copy_users,
    ensure_users,
    explain,
    median_ms,
    scaled,
    spread,
    timed,
)
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.rules.vocabulary import Tier

PREFIX = "bench_acct_"
TARGET = "≤ 1.20x"
# (age range, weight): an app audience, mostly teens and young adults, a few under-age accounts.
AGE_MIX = [((10, 12), 1), ((13, 15), 11), ((16, 17), 12), ((18, 24), 30), ((25, 39), 28)]
AGE_MIX += [((40, 69), 18)]
COUNTRIES = [
    ("GB", 18), ("US", 20), ("DE", 10), ("FR", 9), ("ES", 7), ("IT", 7), ("NL", 5),
    ("PL", 5), ("SE", 3), ("IE", 3), ("AU", 6), ("KR", 4), ("BR", 2.5), ("IS", 0.5),
]  # fmt: skip
SMALL_COUNTRY = "IS"


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_accounts", add_help=False)
    parser.add_argument("--users", type=int, default=scaled(1_000_000))
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--rebuild", action="store_true")
    args, _ = parser.parse_known_args(argv)

    ensure_dataset(args.users, rebuild=args.rebuild)
    on = clock.today()
    figures: list[Figure] = []
    # `make bench` runs with DEBUG=true; production does not, and a debug cursor times and logs
    # every query, which would add its own cost to both sides of every ratio.
    with override_settings(DEBUG=False):
        for case in cases(on):
            figures.extend(measure(case, repeat=args.repeat))
    return figures


# --------------------------------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------------------------------


def ensure_dataset(users: int, *, rebuild: bool) -> None:
    ensure_users(
        f"accounts_users_{users}", prefix=PREFIX, rebuild=rebuild, build=lambda: build(users)
    )


def build(users: int) -> None:
    rng = random.Random(20261129)
    today = clock.today()
    now = clock.now()
    age_ranges = [r for r, _ in AGE_MIX]
    age_weights = [w for _, w in AGE_MIX]
    codes = [c for c, _ in COUNTRIES]
    country_weights = [w for _, w in COUNTRIES]

    def rows() -> Iterator[tuple[object, ...]]:
        for i in range(users):
            low, high = rng.choices(age_ranges, age_weights)[0]
            age = rng.randint(low, high)
            born = rules.ages.latest_birthdate_for_age(age, today) - dt.timedelta(
                rng.randrange(365)
            )
            country = rng.choices(codes, country_weights)[0]
            below = rules.ages.is_below_minimum_age(born, country, today)
            status = "under_age_review" if below else "active"
            fixed = ("!", False, f"{PREFIX}{i:07d}", "", "", "", False, True, now)
            yield (*fixed, born, country, status, "self_declared", "low", now)

    copy_users(rows(), total=users)


# --------------------------------------------------------------------------------------------------
# Cases: the ORM queryset and the hand-written SQL that means the same
# --------------------------------------------------------------------------------------------------


def _years(n: int, on: str = "%(on)s") -> str:
    return f"({on}::date - interval '{n} years')::date"


@dataclass
class Case:
    name: str
    queryset: Callable[[], object]
    where: str  # hand-written WHERE clause over accounts_user, with %(on)s for the date
    on: dt.date
    large: bool = False  # matches a large share of the table: a seq scan is the right plan


def cases(on: dt.date) -> list[Case]:
    yesterday = "(%(on)s::date - 1)"
    objects = User.objects
    return [
        Case("minors", lambda: objects.minors(on=on), f"birthdate > {_years(18)}", on, large=True),
        Case("adults", lambda: objects.adults(on=on), f"birthdate <= {_years(18)}", on, large=True),
        Case(
            f"minors in {SMALL_COUNTRY}",
            lambda: objects.minors(on=on).filter(country=SMALL_COUNTRY),
            f"country = '{SMALL_COUNTRY}' AND birthdate > {_years(18)}",
            on,
        ),
        Case(
            f"adults in {SMALL_COUNTRY}",
            lambda: objects.adults(on=on).filter(country=SMALL_COUNTRY),
            f"country = '{SMALL_COUNTRY}' AND birthdate <= {_years(18)}",
            on,
        ),
        Case(
            "in_tier(young_teen)",
            lambda: objects.in_tier(Tier.YOUNG_TEEN, on=on),
            f"birthdate <= {_years(13)} AND birthdate > {_years(16)}",
            on,
        ),
        Case(
            "turning(16)",
            lambda: objects.turning(16, on=on),
            f"birthdate <= {_years(16)} AND birthdate > {_years(16, yesterday)}",
            on,
        ),
        Case(
            "below_minimum_age",
            lambda: objects.below_minimum_age(on=on),
            f"(country <> 'AU' AND birthdate > {_years(13)})"
            f" OR (country = 'AU' AND birthdate > {_years(16)})",
            on,
        ),
    ]


def measure(case: Case, *, repeat: int) -> list[Figure]:
    """Three ratios per query, each ORM side against the same hand-written SQL.

    - database: the SQL the ORM generates, run on a raw cursor, against the hand-written SQL (same
      fetch): whether the birthdate ranges cost what a person would write;
    - ids: the queryset evaluated end to end (`values_list("id", flat=True)`), Django's compilation
      and row iteration included;
    - count: `.count()` end to end.
    """
    ids_qs = case.queryset().values_list("id", flat=True)  # type: ignore[attr-defined]
    orm_sql, orm_params = ids_qs.query.sql_with_params()
    plan = explain(orm_sql, orm_params)
    print(f"\n--- {case.name}: EXPLAIN ANALYZE of the ORM's SQL", file=sys.stderr)
    print(orm_sql % _quoted(orm_params), file=sys.stderr)
    print(plan, file=sys.stderr)
    count_sql = f"SELECT count(*) FROM accounts_user WHERE {case.where}"
    ids_sql = f"SELECT id FROM accounts_user WHERE {case.where}"
    hand = {"on": case.on}

    def fetch_ids(sql: str, params: object) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def orm_count() -> int:
        return case.queryset().count()  # type: ignore[attr-defined]

    def sql_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(count_sql, hand)
            return cursor.fetchone()[0]

    def orm_ids() -> list[int]:
        return list(case.queryset().values_list("id", flat=True))  # type: ignore[attr-defined]

    def orm_sql_ids() -> list[int]:
        return fetch_ids(orm_sql, orm_params)

    def sql_ids() -> list[int]:
        return fetch_ids(ids_sql, hand)

    rows = orm_count()
    expected = sorted(sql_ids())
    if rows != sql_count() or sorted(orm_ids()) != expected or sorted(orm_sql_ids()) != expected:
        raise AssertionError(f"{case.name}: the ORM and the hand-written SQL disagree")
    with captured_queries() as captured:
        orm_count()
    orm_count_plan = explain(captured.captured_queries[-1]["sql"])
    count_plan = explain(count_sql, hand)
    print(f"--- {case.name}: EXPLAIN ANALYZE of the ORM's .count()", file=sys.stderr)
    print(captured.captured_queries[-1]["sql"], file=sys.stderr)
    print(orm_count_plan, file=sys.stderr)
    print(f"--- {case.name}: EXPLAIN ANALYZE of the hand-written count", file=sys.stderr)
    print(count_plan, file=sys.stderr)

    share = rows / max(1, _table_rows())
    indexes = _index_names(plan)
    if indexes:
        plan_note = f"{rows:,} rows ({share:.1%}); {', '.join(indexes)}"
    else:
        plan_note = f"{rows:,} rows ({share:.1%}); Seq Scan: cheaper than the index at this share"
    count_note = "count: " + " | ".join(
        f"{who} {', '.join(_index_names(p)) or 'Seq Scan'}"
        for who, p in (("ORM", orm_count_plan), ("SQL", count_plan))
    )

    figures = []
    for label, orm_fn, sql_fn, note in (
        ("database", orm_sql_ids, sql_ids, plan_note),
        ("ids", orm_ids, sql_ids, "queryset evaluated end to end"),
        (".count()", orm_count, sql_count, count_note),
    ):
        orm_samples, sql_samples = paired_samples(orm_fn, sql_fn, repeat=repeat)
        orm_ms, sql_ms = median_ms(orm_samples), median_ms(sql_samples)
        overhead_us = (orm_ms - sql_ms) * 1000
        figures.append(
            Figure(
                bench="accounts",
                measure=f"{case.name} {label}: ORM vs SQL",
                value=orm_ms,
                unit="ms",
                baseline=sql_ms,
                target=TARGET,
                note=(
                    note if label == "database" else f"{note}; ORM overhead {overhead_us:+,.0f} us"
                )
                + f"; {spread(orm_samples, sql_samples)}",
            )
        )
    return figures


def paired_samples(
    a: Callable[[], object], b: Callable[[], object], *, repeat: int, budget_s: float = 2.0
) -> tuple[list[float], list[float]]:
    """Seconds of each run of `a` and of `b`, timed alternately so that load from elsewhere hits
    both alike.

    Fast queries get more repetitions (up to 300) so that a sub-millisecond median is stable.
    """
    estimate = min(timed(a, repeat=1)[0], timed(b, repeat=1)[0])
    n = max(repeat, min(300, int(budget_s / 2 / max(estimate, 1e-6))))
    a_samples: list[float] = []
    b_samples: list[float] = []
    for _ in range(n):
        a_samples += timed(a, repeat=1, warmup=0)
        b_samples += timed(b, repeat=1, warmup=0)
    return a_samples, b_samples


_ROWS: list[int] = []


def _table_rows() -> int:
    if not _ROWS:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM accounts_user")
            _ROWS.append(cursor.fetchone()[0])
    return _ROWS[0]


_INDEX_NODE = re.compile(
    r"((?:Parallel )?(?:Index Only Scan|Bitmap Index Scan|Index Scan))"
    r"(?: Backward)? (?:using|on) (\w+)"
)


def _index_names(plan: str) -> list[str]:
    """The index scans of a plan, e.g. ["Index Only Scan user_birthdate"]."""
    return sorted({f"{kind} {name}" for kind, name in _INDEX_NODE.findall(plan)})


def _quoted(params: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(f"'{p}'" for p in params)
