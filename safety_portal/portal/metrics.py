"""The dashboard's numbers: the queue right now, and the last 30 days (issue 5, "Dashboard").

Read-only aggregates over the moderation tables. The 30-day series are cached for a few minutes
(Redis in production): they move slowly and cost a scan of a month of reports at scale, which a
page that every moderator opens many times a day should not repeat on each visit.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate

from moderation.models import Appeal, Case, Decision, Report
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.rules.priority import Band

from . import charts
from .presentation import DECISION_LABELS, band_label

DAYS = 30
CACHE_SECONDS = 300


@dataclass(frozen=True)
class BandRow:
    band: int
    label: str
    waiting: int
    overdue: int
    next_due: dt.datetime | None


def queue_by_band(*, at: dt.datetime, user: Any) -> list[BandRow]:
    """Unclaimed open cases per priority band, with overdue counts and the next due time."""
    qs = Case.objects.open().unclaimed(at=at)
    if not user.has_perm(rules.decisions.PERM_SENIOR_QUEUE):
        qs = qs.filter(status="open")
    rows = {
        r["priority"]: r
        for r in qs.values("priority").annotate(
            waiting=Count("id"),
            overdue=Count("id", filter=Q(due_at__lte=at)),
            next_due=Min("due_at"),
        )
    }
    out = []
    for band in Band:
        r = rows.get(int(band), {})
        out.append(
            BandRow(
                band=int(band),
                label=band_label(int(band)),
                waiting=r.get("waiting", 0),
                overdue=r.get("overdue", 0),
                next_due=r.get("next_due"),
            )
        )
    return out


def _days(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def _since(today: dt.date) -> dt.datetime:
    return clock.start_of(today - dt.timedelta(days=DAYS - 1))


def thirty_days(*, today: dt.date | None = None) -> dict[str, Any]:
    """The four charts of the dashboard, cached per day for CACHE_SECONDS."""
    today = today or clock.today()
    key = f"portal:metrics:{today.isoformat()}"
    data = cache.get(key)
    if data is None:
        data = _compute(today)
        cache.set(key, data, CACHE_SECONDS)
    return _charts(today, data)


def _compute(today: dt.date) -> dict[str, Any]:
    since = _since(today)
    reports = {
        r["day"].isoformat(): r["n"]
        for r in Report.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
    }
    decisions: dict[str, dict[str, int]] = defaultdict(dict)
    for r in (
        Decision.objects.filter(decided_at__gte=since)
        .annotate(day=TruncDate("decided_at"))
        .values("day", "type")
        .annotate(n=Count("id"))
    ):
        decisions[r["type"]][r["day"].isoformat()] = r["n"]
    appeals: dict[str, dict[str, int]] = defaultdict(dict)
    for r in (
        Appeal.objects.filter(decided_at__gte=since - dt.timedelta(days=6))
        .exclude(status="pending")
        .annotate(day=TruncDate("decided_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
    ):
        appeals[r["status"]][r["day"].isoformat()] = r["n"]
    return {
        "reports": reports,
        "decisions": dict(decisions),
        "median_hours": _median_hours(since),
        "appeals": dict(appeals),
    }


def _median_hours(since: dt.datetime) -> dict[str, float]:
    """Median hours from a case opening to its decision, per day of decision."""
    if connection.vendor == "postgresql":
        from django.conf import settings

        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT (decided_at AT TIME ZONE %s)::date AS day,
                       percentile_cont(0.5) WITHIN GROUP (
                           ORDER BY EXTRACT(EPOCH FROM decided_at - opened_at) / 3600.0)
                FROM {Case._meta.db_table}
                WHERE status = 'decided' AND decided_at >= %s
                GROUP BY 1
                """,
                [settings.TIME_ZONE, since],
            )
            return {day.isoformat(): round(float(hours), 1) for day, hours in cursor.fetchall()}
    by_day: dict[str, list[float]] = defaultdict(list)
    from django.utils import timezone

    for opened, decided in (
        Case.objects.decided().filter(decided_at__gte=since).values_list("opened_at", "decided_at")
    ):
        day = timezone.localdate(decided).isoformat()
        by_day[day].append((decided - opened).total_seconds() / 3600)
    return {day: round(statistics.median(v), 1) for day, v in by_day.items()}


def _charts(today: dt.date, data: dict[str, Any]) -> dict[str, Any]:
    days = _days(today)
    keys = [d.isoformat() for d in days]
    reports = charts.bars(
        "Reports received per day",
        days,
        [charts.Series("Reports", [data["reports"].get(k, 0) for k in keys], "s1")],
    )
    kinds = [t for t in rules.decisions.DecisionType if t.value in data["decisions"]]
    decisions = charts.bars(
        "Decisions per day, by type",
        days,
        [
            charts.Series(
                DECISION_LABELS[t],
                [data["decisions"][t.value].get(k, 0) for k in keys],
                f"s{i % 8 + 1}",
            )
            for i, t in enumerate(kinds)
        ]
        or [charts.Series("Decisions", [0] * len(keys))],
    )
    median = charts.line(
        "Median time to decision (hours)",
        days,
        charts.Series("Median hours", [data["median_hours"].get(k) for k in keys]),
        unit=" h",
    )
    overturned = data["appeals"].get("overturned", {})
    rejected = data["appeals"].get("rejected", {})
    rate: list[float | None] = []
    for day in days:
        window = [(day - dt.timedelta(days=i)).isoformat() for i in range(7)]
        over = sum(overturned.get(k, 0) for k in window)
        decided = over + sum(rejected.get(k, 0) for k in window)
        rate.append(round(100 * over / decided, 1) if decided else None)
    overturn = charts.line(
        "Overturn rate on appeal (7-day window)",
        days,
        charts.Series("Overturned", rate),
        unit="%",
        y_max=100,
    )
    return {"reports": reports, "decisions": decisions, "median": median, "overturn": overturn}
