"""The transparency report over 1,000,000 cases (issue 12.5): `transparency_report.report` for a
month, a quarter and a year.

Every figure of the report is an aggregate over one period column (`report.created_at`,
`decision.decided_at`, `appeal.filed_at`, `case.decided_at`), each served by an index that leads
with it (moderation migration 0014). The baseline, measured in the same run, is the same report
for the same period with PostgreSQL's index scans switched off (`SET LOCAL enable_indexscan`,
`enable_indexonlyscan`, `enable_bitmapscan` to off): what the report would cost if it had to read
the tables. A month should cost a small part of that; a year, which reads most of the data set,
about the same.

Data: the queue bench's data set (`bench_moderation`: 100,000 users, 1,000,000 cases over 400
days, 3,000,000 reports), plus one decision for each of its 900,000 decided cases (the mix of
types a real queue produces, grounds where the type restricts) and an appeal against 4% of the
restricting ones, built once with COPY and cached.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import uuid

from django.db import connection, transaction
from tqdm import tqdm

from bench import bench_moderation
from bench.harness import Figure, dataset_ready, explain, mark_dataset, spread, timed
from moderation import transparency_report
from safety_portal.core import clock
from safety_portal.rules.decisions import RESTRICTING, DecisionType

DATASET = f"transparency_decisions_for_{bench_moderation.CASES}_cases"
DECISION_MIX = [
    (DecisionType.NO_VIOLATION, 40),
    (DecisionType.WARN, 22),
    (DecisionType.REMOVE_MESSAGES, 18),
    (DecisionType.RESTRICT_FEATURE, 6),
    (DecisionType.SUSPEND, 8),
    (DecisionType.TERMINATE, 2),
    (DecisionType.REQUIRE_AGE_VERIFICATION, 2),
    (DecisionType.ESCALATE, 2),
]
GROUNDS = ["tc_minor_safety", "tc_harassment", "tc_scams", "tc_spam", "tc_hate"]
APPEAL_SHARE = 0.04
PERIODS = [("month", 30), ("quarter", 91), ("year", 365)]
TARGET = "month well under the unindexed report"


def run(argv: list[str]) -> list[Figure]:
    bench_moderation.ensure_dataset(rebuild="--rebuild" in argv)
    ensure_decisions()
    end = clock.now()
    figures = []
    for label, days in PERIODS:
        start = end - dt.timedelta(days=days)
        samples = timed(lambda s=start: transparency_report.report(start=s, end=end), repeat=3)
        baseline = timed(lambda s=start: _without_indexes(s, end), repeat=3)
        figures.append(
            Figure(
                "transparency",
                f"report for a {label} ({days} days), median of 3",
                statistics.median(samples) * 1000,
                "ms",
                statistics.median(baseline) * 1000,
                TARGET if label == "month" else "",
                f"{spread(samples, baseline)}; baseline: index scans off",
            )
        )
    print_month_plans(end)
    return figures


def _without_indexes(start: dt.datetime, end: dt.datetime) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        transparency_report.report(start=start, end=end)


def print_month_plans(end: dt.datetime) -> None:
    start = end - dt.timedelta(days=30)
    for table, column in (
        ("moderation_report", "created_at"),
        ("moderation_decision", "decided_at"),
        ("moderation_appeal", "filed_at"),
    ):
        sql = f"SELECT count(*) FROM {table} WHERE {column} >= %s AND {column} < %s"
        print(f"\nplan, a month of {table}:\n{explain(sql, [start, end])}", file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------------------------------

DECISION_COLUMNS = (
    "public_id", "case_id", "type", "target_user_id", "decided_by_id", "ground", "category",
    "keywords", "explanation", "facts", "feature", "starts_at", "ends_at", "strikes_after",
    "escalation_proposed", "notified_at", "appeal_deadline", "decided_at",
)  # fmt: skip
APPEAL_COLUMNS = (
    "decision_id", "appellant_id", "kind", "statement", "evidence_method", "evidence_reference",
    "status", "filed_at", "reviewer_id", "decided_at", "reviewer_note",
)  # fmt: skip


def ensure_decisions() -> None:
    if dataset_ready(DATASET):
        print(f"data set {DATASET} is cached", file=sys.stderr)
        return
    moderator, senior = bench_moderation.ensure_moderators(2)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM moderation_appeal WHERE decision_id IN (SELECT d.id FROM "
            "moderation_decision d JOIN moderation_case c ON c.id = d.case_id "
            "WHERE c.subject_key LIKE 'user:%%' AND c.subject_user_id IN "
            "(SELECT id FROM accounts_user WHERE username LIKE %s))",
            [bench_moderation.PREFIX + "%"],
        )
        cursor.execute(
            "DELETE FROM moderation_decision WHERE case_id IN (SELECT c.id FROM moderation_case c "
            "WHERE c.subject_user_id IN (SELECT id FROM accounts_user WHERE username LIKE %s))",
            [bench_moderation.PREFIX + "%"],
        )
        cursor.execute(
            "SELECT c.id, c.subject_user_id, c.category, c.decided_at FROM moderation_case c "
            "JOIN accounts_user u ON u.id = c.subject_user_id "
            "WHERE u.username LIKE %s AND c.status = 'decided' ORDER BY c.id",
            [bench_moderation.PREFIX + "%"],
        )
        cases = cursor.fetchall()
    rng = random.Random(20261207)
    types = [t for t, _ in DECISION_MIX]
    weights = [w for _, w in DECISION_MIX]
    appealed: list[tuple[uuid.UUID, int, dt.datetime]] = []
    raw = connection.connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY moderation_decision ({', '.join(DECISION_COLUMNS)}) FROM STDIN") as copy,
    ):
        for case_id, subject, category, decided_at in tqdm(
            cases, desc="moderation_decision (COPY)", unit=" rows", file=sys.stderr
        ):
            kind = rng.choices(types, weights)[0]
            restricts = kind in RESTRICTING
            public_id = uuid.uuid4()
            copy.write_row(
                (public_id, case_id, kind.value, subject, moderator.pk,
                 rng.choice(GROUNDS) if restricts or kind is DecisionType.WARN else "",
                 category, "[]", "", "Facts relied on (bench).",
                 "direct_messages" if kind is DecisionType.RESTRICT_FEATURE else "",
                 decided_at,
                 decided_at + dt.timedelta(days=7) if kind is DecisionType.SUSPEND else None,
                 None, "", decided_at, decided_at + dt.timedelta(days=183), decided_at)
            )  # fmt: skip
            if restricts and rng.random() < APPEAL_SHARE:
                appealed.append((public_id, subject, decided_at))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public_id, id FROM moderation_decision WHERE public_id = ANY(%s)",
            [[p for p, _, _ in appealed]],
        )
        ids = dict(cursor.fetchall())
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY moderation_appeal ({', '.join(APPEAL_COLUMNS)}) FROM STDIN") as copy,
    ):
        for public_id, appellant, decided_at in tqdm(
            appealed, desc="moderation_appeal (COPY)", unit=" rows", file=sys.stderr
        ):
            filed = decided_at + dt.timedelta(days=1)
            status = rng.choice(["rejected", "rejected", "overturned"])
            copy.write_row(
                (ids[public_id], appellant, "decision", "I disagree.", "", "", status, filed,
                 senior.pk, filed + dt.timedelta(days=2), "Reviewed (bench).")
            )  # fmt: skip
    with connection.cursor() as cursor:
        for table in ("moderation_decision", "moderation_appeal"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    mark_dataset(DATASET)
