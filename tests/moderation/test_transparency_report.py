"""The transparency report's counts (issue 12.5, first part), checked against a hand-counted day:
three notices (two harassment, one scam; one from an automated rule), a suspension after 2 hours,
a no-violation after 4 hours, one appeal overturned, and a case outside the period."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moderation import services, transparency_report
from moderation.models import Appeal
from tests.factories.messaging import person
from tests.factories.moderation import HARASSMENT, SCAM, decided, report_user

pytestmark = pytest.mark.django_db
DAY = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)


def at(hours: float) -> time_machine.travel:
    return time_machine.travel(DAY + dt.timedelta(hours=hours), tick=False)


def test_the_report_counts_match_a_hand_counted_day(moderator, senior, other_senior) -> None:
    with at(0):
        bully, cleared = person(30), person(31)
        reporter = person(35)
        bullying = report_user(bully, reporter=reporter, category=HARASSMENT)
        report_user(bully, reporter=person(36), category=HARASSMENT)  # joins the same case
        scam = report_user(cleared, category=SCAM, source_type="SOURCE_VOLUNTARY")
    with at(2):
        suspension = decided(bullying.case, moderator, "suspend", days=3)
    with at(4):
        decided(scam.case, moderator, "no_violation")
    with at(5):
        appeal = services.file_appeal(
            suspension, appellant=bully, statement="It was a joke.", actor=bully
        )
        services.decide_appeal(appeal, actor=senior, overturn=True, note="A joke among friends.")
    with at(24 * 10):  # another month's work, outside the period
        decided(report_user(person(40), reporter=person(41)).case, moderator, "warn")

    figures = transparency_report.report(start=DAY, end=DAY + dt.timedelta(days=1))

    assert figures.notices_by_category == {HARASSMENT: 2, SCAM: 1}
    assert figures.notices_by_source == {"SOURCE_ARTICLE_16": 2, "SOURCE_VOLUNTARY": 1}
    assert figures.actions_by_type == {"no_violation": 1, "suspend": 1}
    assert figures.actions_by_ground == {"tc_harassment": 1}
    assert figures.median_hours_to_action == 2.0  # only the suspension restricts
    assert (figures.appeals_filed, figures.appeals_by_outcome) == (1, {"overturned": 1})
    assert figures.actions_by_automated_decision == 0
    assert Appeal.objects.count() == 1

    out = StringIO()
    transparency_report.write_csv(figures, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "section,key,value"
    assert "actions_by_type,suspend,1" in lines
    assert "actions,median_hours_to_action,2.0" in lines


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        transparency_report.report(start=DAY, end=DAY)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans: PostgreSQL")
def test_every_figure_is_read_through_an_index_that_leads_with_the_period_column() -> None:
    """Each query of the report, planned with sequential scans priced out, reads its period
    through the index that leads with the period's column: a year over a million cases is an
    index range per figure, never a scan of the table (the 1M-case figures: bench_transparency)."""
    with CaptureQueriesContext(connection) as queries:
        transparency_report.report(start=DAY, end=DAY + dt.timedelta(days=30))
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    text = "\n".join(plans)
    assert "Seq Scan" not in text, text
    for index in ("report_created_at", "decision_decided_at", "appeal_filed_at", "case_decided_at"):
        assert index in text, f"{index} is not used:\n{text}"
