"""The priority and due-time formula (safety_portal/rules/priority.py), as a specification."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safety_portal import rules
from safety_portal.rules.priority import Band, Inputs, Severity, assess, severity_of
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword

OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def score(**kwargs: object) -> int:
    return assess(Inputs(**kwargs), opened_at=OPENED).score  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("category", "keywords", "expected"),
    [
        (
            Category.PROTECTION_OF_MINORS,
            [CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL],
            Severity.CRITICAL,
        ),
        (
            Category.PROTECTION_OF_MINORS,
            [CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS],
            Severity.CRITICAL,
        ),
        (Category.SELF_HARM, [], Severity.CRITICAL),
        (Category.OTHER_VIOLATION_TC, [CategoryKeyword.SUICIDE], Severity.CRITICAL),
        (Category.VIOLENCE, [], Severity.CRITICAL),
        (Category.PROTECTION_OF_MINORS, [CategoryKeyword.UNSAFE_CHALLENGES], Severity.HIGH),
        (Category.CYBER_VIOLENCE, [], Severity.HIGH),
        (Category.SCAMS_AND_FRAUD, [], Severity.MEDIUM),
        (Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS, [], Severity.LOW),
    ],
)
def test_child_abuse_grooming_self_harm_and_imminent_harm_are_most_severe(
    category: str, keywords: list[str], expected: Severity
) -> None:
    assert severity_of(category, keywords) is expected


def test_a_case_involving_a_minor_outranks_the_same_case_without_one() -> None:
    assert score(severity=Severity.HIGH, minor_involved=True) == score(severity=Severity.HIGH) + 30


def test_a_trusted_flagger_report_outranks_an_ordinary_one() -> None:
    assert (
        score(severity=Severity.MEDIUM, trusted_flagger=True)
        == score(severity=Severity.MEDIUM) + 25
    )


def test_many_reporters_raise_the_priority_once_not_per_reporter() -> None:
    one = score(severity=Severity.MEDIUM, credible_reporters=1)
    two = score(severity=Severity.MEDIUM, credible_reporters=2)
    three = score(severity=Severity.MEDIUM, credible_reporters=3)
    flood = score(severity=Severity.MEDIUM, credible_reporters=5000)
    assert one == two
    assert three == flood == one + rules.priority.MANY_REPORTERS_BONUS


def test_reports_only_from_marked_reporters_rank_lower_but_still_rank() -> None:
    normal = assess(Inputs(severity=Severity.HIGH), opened_at=OPENED)
    marked = assess(Inputs(severity=Severity.HIGH, low_credibility_only=True), opened_at=OPENED)
    assert marked.score == normal.score - 20
    assert marked.band is Band.NORMAL  # still in the queue, with a deadline


def test_low_credibility_never_lowers_a_critical_report() -> None:
    assert score(severity=Severity.CRITICAL, low_credibility_only=True) == score(
        severity=Severity.CRITICAL
    )


def test_an_overdue_case_gains_the_overdue_term() -> None:
    assert score(severity=Severity.LOW, overdue=True) == score(severity=Severity.LOW) + 20


@pytest.mark.parametrize(
    ("inputs", "band", "due_in"),
    [
        (Inputs(severity=Severity.CRITICAL), Band.URGENT, dt.timedelta(hours=1)),
        (Inputs(severity=Severity.HIGH, minor_involved=True), Band.HIGH, dt.timedelta(hours=4)),
        (Inputs(severity=Severity.HIGH), Band.NORMAL, dt.timedelta(hours=24)),
        (Inputs(severity=Severity.MEDIUM), Band.LOW, dt.timedelta(hours=72)),
        (
            Inputs(severity=Severity.MEDIUM, credible_reporters=3),
            Band.NORMAL,
            dt.timedelta(hours=24),
        ),
    ],
)
def test_the_band_sets_the_due_time_from_opening(
    inputs: Inputs, band: Band, due_in: dt.timedelta
) -> None:
    result = assess(inputs, opened_at=OPENED)
    assert result.band is band
    assert result.due_at == OPENED + due_in


def test_a_reassessment_never_moves_the_deadline_later() -> None:
    earlier = OPENED + dt.timedelta(minutes=30)
    result = assess(Inputs(severity=Severity.LOW), opened_at=OPENED, current_due_at=earlier)
    assert result.due_at == earlier


def test_the_terms_explain_the_score() -> None:
    result = assess(
        Inputs(severity=Severity.HIGH, minor_involved=True, trusted_flagger=True), opened_at=OPENED
    )
    assert dict(result.terms) == {"severity": 60, "minor_involved": 30, "trusted_flagger": 25}
    assert sum(points for _, points in result.terms) == result.score


@settings(deadline=None, max_examples=200)
@given(
    severity=st.sampled_from(list(Severity)),
    minor=st.booleans(),
    trusted=st.booleans(),
    reporters=st.integers(min_value=0, max_value=10_000),
    low=st.booleans(),
    overdue=st.booleans(),
)
def test_adding_a_risk_factor_never_lowers_the_priority(
    severity: Severity, minor: bool, trusted: bool, reporters: int, low: bool, overdue: bool
) -> None:
    base = Inputs(severity, minor, trusted, reporters, low, overdue)
    base_result = assess(base, opened_at=OPENED)
    for stronger in (
        Inputs(severity, True, trusted, reporters, low, overdue),
        Inputs(severity, minor, True, reporters, low, overdue),
        Inputs(severity, minor, trusted, reporters + 1, low, overdue),
        Inputs(severity, minor, trusted, reporters, False, overdue),
        Inputs(severity, minor, trusted, reporters, low, True),
    ):
        result = assess(stronger, opened_at=OPENED)
        assert result.score >= base_result.score
        assert result.band <= base_result.band
        assert result.due_at <= base_result.due_at
