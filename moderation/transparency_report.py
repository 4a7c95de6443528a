"""The counts of the DSA harmonised transparency report that this portal holds, for a period
(issue 12.5, first part; DSA arts. 15 and 24, Implementing Regulation (EU) 2024/2835 templates).

The figures come from six aggregate queries, each a range of an index that leads with the period's
column (`created_at`, `decided_at`, `filed_at`, `found_on`); the notices' index also holds the
columns they are counted by, so PostgreSQL answers them from the index alone (bench_transparency
measures a month, a quarter and a year over a million cases):

- notices received, by category and by source (DSA art. 16 notices, trusted flaggers, other
  notifications, own initiative), and how many were detected by automated means;
- actions taken, by type and by ground, with how many cases automation detected (every decision
  here is taken by a person, which the report says);
- the median time from a case opening to its decision, for decisions that restrict;
- appeals (internal complaints, art. 20) filed, and their outcomes;
- decided cases that involved a minor;
- the minimum-age sweep's counts (POLICY.md §7.3).

`write_csv` gives the figures as (section, key, value) rows; `write_xlsx` as a workbook with one
sheet per part of the template (notices, actions, appeals, minors, minimum age), the layout the
portal page shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
)
from openpyxl import Workbook

from accounts import minimum_age_sweep
from safety_portal.rules.decisions import RESTRICTING, DecisionType

from .models import Appeal, Case, Decision, Report


class _Median(Aggregate):
    """PostgreSQL's exact median of an interval, in seconds."""

    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


@dataclass
class TransparencyReport:
    start: dt.datetime
    end: dt.datetime
    notices_by_category: dict[str, int] = field(default_factory=dict)
    notices_by_source: dict[str, int] = field(default_factory=dict)
    notices_automated: int = 0
    actions_by_type: dict[str, int] = field(default_factory=dict)
    actions_by_ground: dict[str, int] = field(default_factory=dict)
    actions_on_automated_detection: int = 0
    actions_by_automated_decision: int = 0  # every decision is a person's
    median_hours_to_action: float | None = None
    appeals_filed: int = 0
    appeals_by_outcome: dict[str, int] = field(default_factory=dict)
    decided_cases_involving_minors: int = 0
    minimum_age: list[dict[str, object]] = field(default_factory=list)


def report(*, start: dt.datetime, end: dt.datetime) -> TransparencyReport:
    """The counts for `start <= time < end` (aware datetimes)."""
    if end <= start:
        raise ValueError("The period must end after it starts.")
    out = TransparencyReport(start=start, end=end)
    # One pass over the period's notices, read from the index alone (report_created_at covers
    # every column the figures need), folded into the three figures here.
    notices = (
        Report.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("category", "source_type")
        .annotate(
            n=Count("*"),
            automated=Count("category", filter=Q(reporter_kind=Report.ReporterKind.AUTOMATED)),
        )
    )
    by_category: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    for category, source, n, automated in notices:
        by_category[category] += n
        by_source[source] += n
        out.notices_automated += automated
    out.notices_by_category, out.notices_by_source = _sorted(by_category), _sorted(by_source)

    actions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end).exclude(
        type=DecisionType.ESCALATE.value
    )
    by_type: Counter[str] = Counter()
    by_ground: Counter[str] = Counter()
    for kind, ground, n, automated in (
        actions.order_by()
        .values_list("type", "ground")
        .annotate(n=Count("*"), automated=Count("type", filter=Q(case__automated=True)))
    ):
        by_type[kind] += n
        if ground:
            by_ground[ground] += n
        out.actions_on_automated_detection += automated
    out.actions_by_type, out.actions_by_ground = _sorted(by_type), _sorted(by_ground)
    restricting = actions.filter(type__in=[t.value for t in RESTRICTING])
    out.median_hours_to_action = _median_hours(restricting)

    appeals = Appeal.objects.filter(filed_at__gte=start, filed_at__lt=end)
    out.appeals_filed = appeals.count()
    out.appeals_by_outcome = _grouped(appeals, "status")
    out.decided_cases_involving_minors = Case.objects.filter(
        decided_at__gte=start, decided_at__lt=end, involves_minor=True
    ).count()
    out.minimum_age = minimum_age_sweep.regulator_counts(
        start_on=start.date(), end_on=(end - dt.timedelta(microseconds=1)).date()
    )
    return out


def _grouped(queryset, column: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = queryset.order_by().values(column).annotate(n=Count("*")).values_list(column, "n")
    return dict(sorted(rows))


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items()))


def _median_hours(decisions) -> float | None:  # type: ignore[no-untyped-def]
    waited = ExpressionWrapper(F("decided_at") - F("case__opened_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        seconds = decisions.aggregate(m=_Median(waited))["m"]
        return None if seconds is None else round(seconds / 3600, 2)
    # The embedded SQLite demo has no percentile function: the same median in Python.
    spans = [
        (decided - opened).total_seconds()
        for decided, opened in decisions.values_list("decided_at", "case__opened_at")
    ]
    return round(statistics.median(spans) / 3600, 2) if spans else None


def write_csv(figures: TransparencyReport, out: TextIO) -> None:
    """(section, key, value) rows: the same figures a page or a spreadsheet shows."""
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", "start", figures.start.isoformat()])
    writer.writerow(["period", "end", figures.end.isoformat()])
    for section, counts in (
        ("notices_by_category", figures.notices_by_category),
        ("notices_by_source", figures.notices_by_source),
        ("actions_by_type", figures.actions_by_type),
        ("actions_by_ground", figures.actions_by_ground),
        ("appeals_by_outcome", figures.appeals_by_outcome),
    ):
        for key, value in counts.items():
            writer.writerow([section, key, value])
    writer.writerow(["notices", "automated_detection", figures.notices_automated])
    writer.writerow(["actions", "on_automated_detection", figures.actions_on_automated_detection])
    writer.writerow(["actions", "automated_decision", figures.actions_by_automated_decision])
    writer.writerow(["actions", "median_hours_to_action", figures.median_hours_to_action or ""])
    writer.writerow(["appeals", "filed", figures.appeals_filed])
    writer.writerow(["minors", "decided_cases", figures.decided_cases_involving_minors])
    for row in figures.minimum_age:
        for key, value in row.items():
            if key != "country":
                writer.writerow([f"minimum_age:{row['country']}", key, value])


def sheet_rows(figures: TransparencyReport) -> dict[str, list[tuple[str, object]]]:
    """The figures per sheet, in the template's order."""
    return {
        "Notices": [
            *((f"By category: {k}", v) for k, v in figures.notices_by_category.items()),
            *((f"By source: {k}", v) for k, v in figures.notices_by_source.items()),
            ("Detected by automated means", figures.notices_automated),
        ],
        "Actions": [
            *((f"By type: {k}", v) for k, v in figures.actions_by_type.items()),
            *((f"By ground: {k}", v) for k, v in figures.actions_by_ground.items()),
            ("On automated detection", figures.actions_on_automated_detection),
            ("Taken by automated means", figures.actions_by_automated_decision),
            ("Median hours from notice to action", figures.median_hours_to_action),
        ],
        "Appeals": [
            ("Filed", figures.appeals_filed),
            *((f"Outcome: {k}", v) for k, v in figures.appeals_by_outcome.items()),
        ],
        "Minors": [("Decided cases involving a minor", figures.decided_cases_involving_minors)],
        "Minimum age": [
            (f"{row['country']}: {key}", value)
            for row in figures.minimum_age
            for key, value in row.items()
            if key != "country"
        ],
    }


def write_xlsx(figures: TransparencyReport) -> bytes:
    """The workbook: a sheet per part, each headed with the period."""
    book = Workbook()
    book.remove(book.active)
    period = f"{figures.start:%Y-%m-%d} to {figures.end:%Y-%m-%d}"
    for title, rows in sheet_rows(figures).items():
        sheet = book.create_sheet(title)
        sheet.append(["Safety Portal transparency report", period])
        sheet.append(["Figure", "Value"])
        for label, value in rows:
            sheet.append([label, value])
        sheet.column_dimensions["A"].width = 60
    handle = io.BytesIO()
    book.save(handle)
    return handle.getvalue()
