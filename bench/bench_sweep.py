"""The minimum-age sweep over 1,000,000 users (issue 11.3, POLICY.md §7.3).

Scenario: a country with a million accounts raises its minimum age to 16 (Australia on
10 December 2025); every account there that is below the new floor is found, told, placed under
review and audited one entry per account. Figures:

- the sweep end to end (`accounts.minimum_age_sweep.run`, batches of 1,000, a transaction each)
  against one SQL statement that makes the same state change for the same users: the cohort
  query with the status UPDATE, the review rows and the notices in one CTE. That statement is
  the floor of what any sweep must write; what the sweep adds is the row locks, the rule asked
  again under the lock, one audit entry per account on the hash chain, and the batching that
  makes it resumable. Target ≤ 3x;
- the plain cohort SELECT (ids only), printed for scale;
- peak Python memory (tracemalloc) of each tenth of a second sweep, the highest of the second
  half against the first: flat means the peak does not grow with the number of accounts swept
  (target ratio ≈ 1.0).

Data: 1,000,000 app users in AU built once with COPY and cached (`bench_dataset`), with an
app-like age mix; every run first puts the cohort back (status active, its reviews and notices
deleted; audit entries stay, the log is append-only). Options: `--users N`, `--repeat N`
(paired runs, medians), `--rebuild`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator

from django.db import connection, transaction
from django.test.utils import override_settings
from tqdm import tqdm

from accounts import minimum_age_sweep as sweeps
from accounts.managers import UserQuerySet
from accounts.models import MinimumAgeReview, MinimumAgeSweep, User
from bench.harness import Figure, copy_users, ensure_users, spread
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.outbox.models import UserNotice

PREFIX = "bench_sweep_"
COUNTRY = "AU"
ACTOR = SystemActor("bench.minimum_age_sweep")
# (age range, weight): the same app audience as bench_accounts, in one country.
AGE_MIX = [((13, 15), 11), ((16, 17), 12), ((18, 24), 30), ((25, 39), 28), ((40, 69), 19)]


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_sweep", add_help=False)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args, _ = parser.parse_known_args(argv)
    ensure_dataset(args.users, rebuild=args.rebuild)
    with override_settings(DEBUG=False):
        return measure(args.users, repeat=max(1, args.repeat))


def measure(users: int, *, repeat: int) -> list[Figure]:
    today = clock.today()
    reset()
    cohort_size = sweeps.cohort(COUNTRY, on=today).filter(username__startswith=PREFIX).count()
    select_s = _seconds(lambda: list(_cohort(today).values_list("pk", flat=True)))

    # Paired and alternated, medians of `repeat`: the machine's load changes between runs.
    baselines, sweeps_s = [], []
    for n in range(repeat):
        reset()
        baselines.append(_seconds(lambda: _one_statement(today)))
        reset()
        seconds, found = _sweep(today, key=f"bench:timed:{n}")
        if found != cohort_size:
            raise RuntimeError(f"the sweep found {found} accounts, the cohort query {cohort_size}")
        sweeps_s.append(seconds)
    baseline_s, sweep_s = statistics.median(baselines), statistics.median(sweeps_s)

    reset()
    early_peak, final_peak = _sweep_memory(today, cohort_size)
    reset()
    name = f"minimum-age sweep, {users:,} users ({cohort_size:,} below the floor)"
    return [
        Figure(
            name,
            "sweep vs one SQL statement",
            sweep_s,
            "s",
            baseline=baseline_s,
            target="≤ 3.00x",
            note=(
                f"{spread(sweeps_s, baselines)}; {cohort_size / sweep_s:,.0f} accounts/s; "
                f"cohort SELECT alone {select_s:.2f} s"
            ),
        ),
        Figure(
            name,
            "peak memory, 2nd half vs 1st half",
            final_peak / 2**20,
            "MiB",
            baseline=early_peak / 2**20,
            target="≈ 1.00x (flat)",
            note="tracemalloc peaks, per tenth on stderr",
        ),
    ]


def _cohort(today: dt.date) -> UserQuerySet:
    return sweeps.cohort(COUNTRY, on=today).filter(username__startswith=PREFIX)


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _sweep(
    today: dt.date, *, key: str, progress: Callable[[int], None] | None = None
) -> tuple[float, int]:
    start = time.perf_counter()
    sweep = sweeps.start(key=key, country=COUNTRY, on=today, source="bench", actor=ACTOR)
    with tqdm(desc=key, unit=" accounts", file=sys.stderr) as bar:

        def tick(n: int) -> None:
            bar.update(n)
            if progress is not None:
                progress(n)

        sweep = sweeps.run(sweep, actor=ACTOR, progress=tick)
    return time.perf_counter() - start, sweep.found


def _sweep_memory(today: dt.date, cohort_size: int) -> tuple[int, int]:
    """The highest traced-memory peak of the first half of the cohort and of the second half (the
    peak is reset at each tenth, and each tenth's peak is printed). Memory that grew with the
    accounts swept would make the second half peak higher; the first tenths also hold the
    process's warm-up (caches filled once), which a first-tenth baseline would mistake for
    growth."""
    tenth = max(1, cohort_size // 10)
    seen = {"accounts": 0, "next": tenth}
    peaks: list[int] = []

    def watch(n: int) -> None:
        seen["accounts"] += n
        if seen["accounts"] >= seen["next"]:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()
            seen["next"] += tenth

    tracemalloc.start()
    try:
        _sweep(today, key="bench:memory", progress=watch)
        peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    print("peak MiB per tenth: " + ", ".join(f"{p / 2**20:.2f}" for p in peaks), file=sys.stderr)
    tenths = peaks[:10]
    return max(tenths[:5]), max(tenths[5:], default=tenths[-1])


def _one_statement(today: dt.date) -> None:
    """The same state change as the sweep for the same users, in one SQL statement."""
    ids_sql, ids_params = _cohort(today).values("pk").query.sql_with_params()
    windows = rules.minimum_age.review_windows(today)
    sql = f"""
        WITH c AS (
            UPDATE accounts_user u SET status = 'under_age_review', status_changed_at = now()
            WHERE u.id IN ({ids_sql})
            RETURNING u.id
        ), r AS (
            INSERT INTO {MinimumAgeReview._meta.db_table}
                (user_id, country, found_on, grace_until, appeal_until, notified_at, outcome)
            SELECT id, %s, %s, %s, %s, now(), 'open' FROM c
        )
        INSERT INTO {UserNotice._meta.db_table}
            (user_id, kind, key, tier, subject, body, created_at)
        SELECT id, 'minimum_age', 'bench:baseline', 'young_teen', %s, %s, now() FROM c
    """
    params = (*ids_params, COUNTRY, today, windows.grace_until, windows.appeal_until)
    params += ("Your account is paused because of the minimum age", "x" * 700)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def reset() -> None:
    """Put the cohort back as it was before the law: active, no reviews, no notices, no sweeps."""
    users = User.objects.filter(username__startswith=PREFIX)
    with transaction.atomic():
        MinimumAgeReview.objects.filter(user__in=users).delete()
        UserNotice.objects.filter(user__in=users).delete()
        MinimumAgeSweep.objects.filter(key__startswith="bench:").delete()
        users.filter(status="under_age_review").update(status="active", status_changed_at=None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_user")


def ensure_dataset(users: int, *, rebuild: bool) -> None:
    reset()
    ensure_users(f"sweep_users_{users}", prefix=PREFIX, rebuild=rebuild, build=lambda: build(users))


def build(users: int) -> None:
    """Accounts made before the law: all active, ages drawn from an app audience."""
    rng = random.Random(20251210)
    today = clock.today()
    now = clock.now()
    ranges = [r for r, _ in AGE_MIX]
    weights = [w for _, w in AGE_MIX]

    def rows() -> Iterator[tuple[object, ...]]:
        for i in range(users):
            low, high = rng.choices(ranges, weights)[0]
            born = rules.ages.latest_birthdate_for_age(rng.randint(low, high), today)
            born -= dt.timedelta(rng.randrange(365))
            fixed = ("!", False, f"{PREFIX}{i:07d}", "", "", "", False, True, now)
            yield (*fixed, born, COUNTRY, "active", "self_declared", "low", now)

    copy_users(rows(), total=users)
