"""The moderation queue at scale: `Case.objects.claim_next` over 1,000,000 cases and 3,000,000 reports.

Issue 4: with 1,000,000 cases (10% open) and 3,000,000 reports, measure `claim_next` (median and
95th percentile) with 1 and with 8 concurrent moderators, zero double claims, and print the plan of
the queue query. Targets (issue 13): with 8 moderators, median under 10 ms and p95 under 20 ms.

Each claim is the whole production path: the permission check, then one statement on PostgreSQL
(`UPDATE ... FROM (SELECT ... ORDER BY priority_score DESC, due_at, id LIMIT 1 FOR UPDATE SKIP
LOCKED) RETURNING`, over the partial `case_queue` index, compiled once per queue: docs/decisions.md
D25) and the audit entry's INSERT, in one transaction. The audit chain is linked after commit by
the chainer (D23), so claimers no longer queue behind one lock. The baseline, measured in the same
run, is the bare queue query (the locking SELECT alone, rolled back), so the ratio shows what the
claim's bookkeeping and audit cost on top of finding the row. The concurrent figures pool three
rounds and print the spread of the rounds' medians and 95th percentiles.

Claims commit durably by default, like every other write; the same measurements with
MODERATION_CLAIM_SYNCHRONOUS_COMMIT = False (`SET LOCAL synchronous_commit TO OFF`, see
`moderation.managers.cases._claims_need_not_wait_for_disk`) are printed next to them.

Moderators work in the steady state: after each (timed) claim the case is closed with a bare
UPDATE outside the timing, as a decision would close it, so each moderator holds about one claim at
a time; the worked cases are put back in the queue afterwards. Concurrent moderators are processes
(as production's web workers are), each with its own PostgreSQL connection, started together at a
barrier; every case handed out is collected, and the run fails loudly if any case went to two
moderators (and cross-checks the database). Claims are cleared before each measurement so the
numbers are repeatable on the cached data set.

Data: 100,000 app users (each the subject of exactly one open case and nine decided ones, so the
one-open-case-per-subject index holds), 1,000,000 cases with the priority of `rules.priority.assess`,
3,000,000 reports (1 to 5 per case), built once with COPY (psycopg) and cached (`bench_dataset`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.test import override_settings
from tqdm import tqdm

from accounts.models import User
from bench.harness import (
    Figure,
    dataset_ready,
    explain,
    mark_dataset,
    median_ms,
    percentile_ms,
    scaled,
    spread,
)
from moderation.models import Case, Report
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.rules.sor_vocabulary import Category, SourceType

PREFIX = "bench_mod_"
USERS = scaled(100_000)
CASES = scaled(1_000_000)
REPORTS = scaled(3_000_000)
OPEN_SHARE = 0.10
TARGET = "median < 10 ms"
TARGET_P95 = "p95 < 20 ms"
ROUNDS = 3
CATEGORIES = [
    (Category.PROTECTION_OF_MINORS.value, 4),
    (Category.SELF_HARM.value, 2),
    (Category.CYBER_VIOLENCE.value, 20),
    (Category.ILLEGAL_OR_HARMFUL_SPEECH.value, 12),
    (Category.SCAMS_AND_FRAUD.value, 25),
    (Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS.value, 10),
    (Category.OTHER_VIOLATION_TC.value, 27),
]
ACTOR = SystemActor("bench.moderation")


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_moderation", add_help=False)
    parser.add_argument("--claims", type=int, default=400, help="claims by the single moderator")
    parser.add_argument("--per-moderator", type=int, default=100)
    parser.add_argument("--moderators", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    args, _ = parser.parse_known_args(argv)

    ensure_dataset(rebuild=args.rebuild)
    moderators = ensure_moderators(args.moderators)
    figures: list[Figure] = []

    reset_claims()
    print_plans(moderators[0])
    baseline = measure_bare_query(moderators[0], repeat=200)

    reset_claims()
    single = claim_sequentially(moderators[0], args.claims)
    figures += [
        Figure("moderation", "claim_next, 1 moderator, median", median_ms(single), "ms",
               median_ms(baseline), TARGET, f"{len(single)} claims"),
        Figure("moderation", "claim_next, 1 moderator, p95", percentile_ms(single, 95), "ms",
               percentile_ms(baseline, 95)),
    ]  # fmt: skip

    figures += concurrent_figures(moderators, args.per_moderator, baseline, durable=True)
    with override_settings(MODERATION_CLAIM_SYNCHRONOUS_COMMIT=False):
        reset_claims()
        single_async = claim_sequentially(moderators[0], args.claims)
        figures.append(
            Figure("moderation", "claim_next, 1 moderator, async commit, median",
                   median_ms(single_async), "ms", median_ms(baseline), note="asynchronous commit")
        )  # fmt: skip
        figures += concurrent_figures(moderators, args.per_moderator, baseline, durable=False)
    reset_claims()
    return figures


def concurrent_figures(
    moderators: list[User], per_moderator: int, baseline: list[float], *, durable: bool
) -> list[Figure]:
    """ROUNDS rounds of all moderators claiming at once; the figures pool every round's claims and
    print the spread of the rounds' own medians and 95th percentiles, so noise shows."""
    samples: list[float] = []
    medians: list[float] = []
    p95s: list[float] = []
    wall = 0.0
    handed = worked = doubles = 0
    for _ in range(ROUNDS):
        reset_claims()
        round_samples, handed_out, round_wall = claim_concurrently(moderators, per_moderator)
        round_doubles = sum(1 for n in handed_out.values() if n > 1)
        # Every case handed out was worked (closed) exactly once: the database agrees.
        db_claimed = Case.objects.filter(pk__in=list(handed_out), status="decided").count()
        reopen(list(handed_out))
        if round_doubles or db_claimed != sum(handed_out.values()):
            raise AssertionError(
                f"double claims: {round_doubles}; handed out {sum(handed_out.values())}, "
                f"held in the database {db_claimed}"
            )
        samples += round_samples
        medians.append(statistics.median(round_samples))
        p95s.append(percentile_ms(round_samples, 95) / 1000)
        wall += round_wall
        handed += sum(handed_out.values())
        worked += db_claimed
        doubles += round_doubles
    n = len(moderators)
    mode = "durable commit" if durable else "claims commit without waiting for the disk"
    label = f"{n} moderators" + ("" if durable else ", async commit")
    return [
        Figure("moderation", f"claim_next, {label}, median", median_ms(samples), "ms",
               median_ms(baseline), TARGET if durable else "",
               f"{len(samples)} claims; {mode}; rounds' medians: {spread(medians)}"),
        Figure("moderation", f"claim_next, {label}, p95", percentile_ms(samples, 95), "ms",
               percentile_ms(baseline, 95), TARGET_P95 if durable else "",
               f"rounds' p95: {spread(p95s)}"),
        Figure("moderation", f"claim_next, {label}, throughput", len(samples) / wall,
               "claims/s", note=f"{wall:.2f} s wall over {ROUNDS} rounds"),
        Figure("moderation", f"double claims, {label}", float(doubles), "cases", target="0",
               note=f"{worked} worked = {handed} handed out"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------------------------------


def ensure_dataset(*, rebuild: bool) -> None:
    name = f"moderation_cases_{CASES}_reports_{REPORTS}"
    if dataset_ready(name) and not rebuild:
        print(f"data set {name} is cached", file=sys.stderr)
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset WHERE name LIKE 'moderation_%%'")
        cursor.execute(
            "DELETE FROM moderation_report WHERE case_id IN (SELECT id FROM moderation_case "
            "WHERE subject_user_id IN (SELECT id FROM accounts_user WHERE username LIKE %s))",
            [PREFIX + "%"],
        )
        cursor.execute(
            "DELETE FROM moderation_case WHERE subject_user_id IN "
            "(SELECT id FROM accounts_user WHERE username LIKE %s)",
            [PREFIX + "%"],
        )
        cursor.execute("DELETE FROM accounts_user WHERE username LIKE %s", [PREFIX + "%"])
    build()
    with connection.cursor() as cursor:
        for table in ("accounts_user", "moderation_case", "moderation_report"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    mark_dataset(name)


def _user_row_values(now: dt.datetime) -> tuple[list[str], dict[str, Any]]:
    """Every concrete column of accounts_user with a value for a plain active app user, read from
    the model so the bench keeps working when the accounts schema grows."""
    columns, fixed = [], {}
    for f in User._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.column)
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.get_internal_type() in ("CharField", "TextField"):
            value = ""
        elif f.get_internal_type() == "BooleanField":
            value = False
        elif f.get_internal_type() == "DateTimeField":
            value = now
        else:
            value = None
        fixed[f.column] = value
    fixed["password"] = "!"  # noqa: S105 - an unusable password: these accounts never log in
    fixed.update(is_active=True, is_staff=False, is_superuser=False)
    fixed.update(date_joined=now, updated_at=now, status="active", country="GB")
    fixed.update(assurance_method="self_declared", assurance_level="low")
    return columns, fixed


def build() -> None:
    rng = random.Random(20261129)
    today, now = clock.today(), clock.now()
    connection.ensure_connection()
    raw = connection.connection
    columns, fixed = _user_row_values(now)
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY accounts_user ({', '.join(columns)}) FROM STDIN") as copy:
            for i in tqdm(range(USERS), desc="accounts_user (COPY)", unit=" rows", file=sys.stderr):
                age = rng.choice([13, 14, 15, 16, 17, 19, 22, 25, 31, 38, 45])
                born = rules.ages.latest_birthdate_for_age(age, today) - dt.timedelta(
                    rng.randrange(365)
                )
                row = {**fixed, "username": f"{PREFIX}{i:06d}", "birthdate": born}
                copy.write_row([row[c] for c in columns])
        cursor.execute(
            "SELECT id, birthdate FROM accounts_user WHERE username LIKE %s ORDER BY id",
            [PREFIX + "%"],
        )
        users = cursor.fetchall()
        cursor.execute("SELECT coalesce(max(id), 0) FROM moderation_case")
        first_case = cursor.fetchone()[0] + 1
    minor = {uid: rules.ages.age_on(born, today) < 18 for uid, born in users}
    user_ids = [uid for uid, _ in users]
    plan: list[tuple[int, int, str, str, dt.datetime, int]] = []
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY moderation_case ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for row, entry in tqdm(
                _case_rows(rng, user_ids, minor, first_case, now),
                total=CASES,
                desc="moderation_case (COPY)",
                unit=" rows",
                file=sys.stderr,
            ):
                copy.write_row(row)
                plan.append(entry)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('moderation_case', 'id'), "
            "(SELECT max(id) FROM moderation_case))"
        )
    report_columns = [
        "case_id", "reporter_kind", "reporter_id", "reporter_label", "low_credibility",
        "subject_type", "subject_user_id", "category", "keywords", "explanation", "source_type",
        "suspected_under_age", "evidence", "outcome", "created_at",
    ]  # fmt: skip
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY moderation_report ({', '.join(report_columns)}) FROM STDIN") as copy,
    ):
        for case_id, subject, category, outcome, opened, count in tqdm(
            plan, desc="moderation_report (COPY)", unit=" cases", file=sys.stderr
        ):
            for k in range(count):
                reporter = rng.choice(user_ids)
                while reporter == subject:
                    reporter = rng.choice(user_ids)
                copy.write_row(
                    (case_id, "user", reporter, "", False, "user", subject, category, "[]",
                     "Reported in the app.", SourceType.ARTICLE_16.value, False, "{}",
                     outcome, opened + dt.timedelta(minutes=k))
                )  # fmt: skip


CASE_COLUMNS = (
    "id", "subject_key", "subject_type", "subject_user_id", "status", "category", "keywords",
    "severity", "involves_minor", "trusted_flagger", "automated", "report_count",
    "reporter_count", "low_credibility", "priority_score", "priority", "opened_at", "due_at",
    "escalated_at", "decided_at",
)  # fmt: skip


def _case_rows(
    rng: random.Random,
    user_ids: list[int],
    minor: dict[int, bool],
    first_id: int,
    now: dt.datetime,
) -> Iterator[tuple[tuple[Any, ...], tuple[int, int, str, str, dt.datetime, int]]]:
    """1,000,000 cases, streamed: each user is the subject of one open and nine decided cases.
    Report counts of 1 to 5 per case add up to exactly 3,000,000."""
    cats = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    per_user = CASES // len(user_ids)
    counts = [REPORTS // CASES] * CASES
    for _ in range(CASES):  # spread 1..5 around the mean of 3 without changing the total
        a, b = rng.randrange(CASES), rng.randrange(CASES)
        if counts[a] < 5 and counts[b] > 1:
            counts[a] += 1
            counts[b] -= 1
    case_id = first_id
    for uid in user_ids:
        for k in range(per_user):
            is_open = k == 0
            category = rng.choices(cats, weights)[0]
            severity = rules.priority.severity_of(category)
            trusted = rng.random() < 0.02
            involved_minor = minor[uid] or rng.random() < 0.05
            reports = counts[case_id - first_id]
            opened = now - dt.timedelta(minutes=rng.randrange(60 * 24 * (3 if is_open else 400)))
            result = rules.priority.assess(
                rules.priority.Inputs(severity, involved_minor, trusted, reports), opened_at=opened
            )
            status = "decided"
            if is_open:
                status = "escalated" if rng.random() < 0.05 else "open"
            row = (
                case_id, f"user:{uid}", "user", uid, status, category, "[]", int(severity),
                involved_minor, trusted, False, reports, reports, False, result.score,
                int(result.band), opened, result.due_at,
                opened if status == "escalated" else None,
                None if is_open else opened + dt.timedelta(hours=5),
            )  # fmt: skip
            outcome = "pending" if is_open else rng.choice(["upheld", "rejected"])
            yield row, (case_id, uid, category, outcome, opened, reports)
            case_id += 1


def ensure_moderators(n: int) -> list[User]:
    from accounts.roles import grant_role

    out = []
    for i in range(n):
        name = f"bench_moderator_{i}"
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User.objects.create_staff_user(
                actor=ACTOR,
                username=name,
                password="!bench-only!",  # noqa: S106 - bench staff, never a login
            )
        grant_role(user, "Moderator", actor=ACTOR, reason="bench")
        out.append(User.objects.get(pk=user.pk))
    return out


def work_the_case(case_id: int) -> None:
    """Bench only, outside the timed region: the moderator finishes the case, so it leaves the
    queue as a decided case does (steady state: each moderator holds about one claim at a time)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE moderation_case SET status = 'decided', decided_at = now(), "
            "claimed_by_id = NULL, claimed_at = NULL, claim_expires_at = NULL WHERE id = %s",
            [case_id],
        )


def reopen(case_ids: list[int]) -> None:
    """Bench only: put the cases the bench worked back in the queue for the next run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE moderation_case SET status = 'open', decided_at = NULL WHERE id = ANY(%s)",
            [case_ids],
        )


def reset_claims() -> None:
    """Bench only: give every claimed case back, so that each measurement starts from the same
    queue (the cached data set outlives the run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE moderation_case SET claimed_by_id = NULL, claimed_at = NULL, "
            "claim_expires_at = NULL WHERE claimed_by_id IS NOT NULL"
        )


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


def _queue_sql(moderator: User, queue: str = "all") -> tuple[str, tuple[Any, ...]]:
    qs = (
        Case.objects.for_queue(queue, moderator=moderator, at=clock.now())
        .select_for_update(skip_locked=True, of=("self",))
        .values("id")[:1]
    )
    with transaction.atomic():  # Django compiles FOR UPDATE only inside a transaction
        sql, params = qs.query.get_compiler(using="default").as_sql()
    return sql, params


def print_plans(moderator: User) -> None:
    for queue in ("all", "minors"):
        sql, params = _queue_sql(moderator, queue)
        print(f"\n-- queue {queue!r}:\n{sql}\n-- params: {params}", file=sys.stderr)
        with transaction.atomic():
            print(explain(sql, params), file=sys.stderr)
    counts = Counter(Case.objects.values_list("status", flat=True).order_by())
    print(
        f"\ncases by status: {dict(counts)}; reports: {Report.objects.count():,}", file=sys.stderr
    )


def measure_bare_query(moderator: User, *, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat + 5):
        sql, params = _queue_sql(moderator)
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchone()
            transaction.set_rollback(True)
        samples.append(time.perf_counter() - start)
    return samples[5:]


def claim_sequentially(moderator: User, claims: int) -> list[float]:
    moderator.has_perm("moderation.claim_case")  # load permissions once, as a session would
    samples, taken = [], []
    for _ in range(claims):
        start = time.perf_counter()
        case = Case.objects.claim_next(actor=moderator)
        samples.append(time.perf_counter() - start)
        if case is None:
            raise AssertionError("the queue ran dry during the bench")
        taken.append(case.pk)
        work_the_case(case.pk)
    reopen(taken)
    return samples


def _claimer(moderator_id: int, per_moderator: int, barrier: Any, results: Any, index: int) -> None:
    """One moderator in its own process (as each web worker is in production)."""
    try:
        moderator = User.objects.get(pk=moderator_id)
        moderator.has_perm("moderation.claim_case")  # permissions loaded, as on a session
        samples, taken = [], []
        barrier.wait(timeout=120)
        for _ in range(per_moderator):
            start = time.perf_counter()
            case = Case.objects.claim_next(actor=moderator)
            samples.append(time.perf_counter() - start)
            if case is not None:
                taken.append(case.pk)
                work_the_case(case.pk)
        results.put((index, samples, taken, None))
    except BaseException:  # reported by the parent, which fails the run
        results.put((index, [], [], traceback.format_exc()))
    finally:
        connection.close()


def claim_concurrently(
    moderators: list[User], per_moderator: int
) -> tuple[list[float], Counter[int], float]:
    """Each moderator in a separate process, released together at a barrier.

    Processes, not threads: production moderators are separate web workers, and threads in one
    interpreter would mostly measure the GIL. The parent closes its connection before forking so
    that every child opens its own.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(moderators) + 1)
    results = context.Queue()
    connection.close()
    processes = [
        context.Process(target=_claimer, args=(m.pk, per_moderator, barrier, results, i))
        for i, m in enumerate(moderators)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    collected = [results.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join(timeout=60)
    failures = [error for _, _, _, error in collected if error]
    if failures:
        raise RuntimeError("a claimer failed:\n" + failures[0])
    samples = [s for _, per, _, _ in collected for s in per]
    handed_out = Counter(pk for _, _, taken, _ in collected for pk in taken)
    return samples, handed_out, wall
