"""Reports (DSA art. 16) join one open case per subject; the case's priority follows rules.priority."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection

from moderation import services
from moderation.models import Case, Report
from safety_portal.core.audit.actors import ActorIdentity, SystemActor
from safety_portal.core.errors import DomainError
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword, SourceType
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import (
    CSAM,
    GROOMING,
    HARASSMENT,
    MINORS,
    SCAM,
    report_message,
    report_thread,
    report_user,
    trusted_flagger,
)

pytestmark = pytest.mark.django_db


class ApiClient:
    """Stands in for an API client of issue 6: anything with an audit identity."""

    def __init__(self, name: str, client_id: str = "7") -> None:
        self.name, self.client_id = name, client_id

    def audit_identity(self) -> ActorIdentity:
        return ActorIdentity(kind="api_client", id=self.client_id, label=self.name)


def test_a_users_report_opens_a_case_with_its_priority_and_due_time() -> None:
    subject, reporter = person(30), person(25)
    report = report_user(subject, reporter=reporter, category=SCAM)
    case = report.case
    assert report.reporter_kind == "user"
    assert report.source_type == SourceType.ARTICLE_16
    assert case.status == "open"
    assert case.subject_key == f"user:{subject.pk}"
    assert (case.priority_score, case.priority) == (35, 4)
    assert case.due_at > case.opened_at


def test_reports_on_the_same_subject_join_the_open_case() -> None:
    subject = person(30)
    first = report_user(subject, reporter=person(25))
    second = report_user(subject, reporter=person(26), category=SCAM)
    other = report_user(person(31), reporter=person(27))
    assert second.case_id == first.case_id
    assert other.case_id != first.case_id
    case = Case.objects.get(pk=first.case_id)
    assert case.report_count == 2
    assert case.category == HARASSMENT  # the most severe report's category leads


def test_a_flood_of_reports_raises_the_priority_once(
    audit_actions: Callable[[str], list[object]],
) -> None:
    subject = person(30)
    reporters = [person(20 + i % 30) for i in range(12)]
    for reporter in reporters:
        report_user(subject, reporter=reporter, category=SCAM)
        report_user(subject, reporter=reporter, category=SCAM)  # the same person again
    case = Case.objects.get(subject_key=f"user:{subject.pk}")
    assert case.report_count == 24
    assert case.reporter_count == 12
    assert case.priority_score == 35 + 15
    assert len(audit_actions("moderation.case.priority_raised")) == 1


def test_the_same_reporter_twice_counts_once() -> None:
    subject, reporter = person(30), person(25)
    for _ in range(5):
        report_user(subject, reporter=reporter)
    case = Case.objects.get(subject_key=f"user:{subject.pk}")
    assert case.reporter_count == 1
    assert case.priority_score == 60


def test_a_minor_reporting_makes_the_case_involve_a_minor() -> None:
    report = report_user(person(30), reporter=person(14))
    assert report.case.involves_minor
    assert report.case.priority_score == 60 + 30


def test_a_minor_as_subject_makes_the_case_involve_a_minor() -> None:
    report = report_user(person(15), reporter=person(40))
    assert report.case.involves_minor


def test_another_participant_of_the_thread_being_a_minor_counts() -> None:
    adult, teen = person(30, dm="friends"), person(17, dm="friends")
    befriend(adult, teen)
    thread = direct_thread(adult, teen)
    message = send(adult, thread, "hi there")
    report = report_message(message, reporter=person(40))  # a third person reports it
    assert report.case.involves_minor
    assert report.case.subject_user_id == adult.pk
    assert report.case.subject_thread_id == thread.pk


def test_an_adults_case_without_minors_does_not_involve_one() -> None:
    report = report_user(person(30), reporter=person(40))
    assert not report.case.involves_minor


def test_anonymous_reports_are_allowed_for_child_sexual_abuse() -> None:
    report = report_user(
        person(30), reporter=None, category=MINORS, keywords=[CSAM], actor=SystemActor("web form")
    )
    assert report.reporter_kind == "anonymous"
    assert report.case.priority == 1
    assert report.case.involves_minor


def test_anonymous_reports_are_refused_for_other_categories() -> None:
    subject = person(30)
    with pytest.raises(DomainError) as caught:
        report_user(subject, reporter=None, category=HARASSMENT, actor=SystemActor("web form"))
    assert "reporter" in caught.value.fields
    assert not Report.objects.exists()


def test_a_trusted_flagger_files_through_its_api_client() -> None:
    flagger = trusted_flagger(client="42")
    client = ApiClient("hotline-client", client_id="42")
    report = report_user(
        person(30), reporter=None, source_type=SourceType.TRUSTED_FLAGGER, actor=client
    )
    assert report.reporter_kind == "trusted_flagger"
    assert report.trusted_flagger == flagger
    assert report.case.trusted_flagger
    assert report.case.priority_score == 60 + 25


def test_an_unknown_client_cannot_file_as_a_trusted_flagger() -> None:
    with pytest.raises(DomainError) as caught:
        report_user(
            person(30),
            reporter=None,
            source_type=SourceType.TRUSTED_FLAGGER,
            actor=ApiClient("not-a-flagger", client_id="99"),
        )
    assert "source_type" in caught.value.fields


def test_an_integration_files_as_another_notification() -> None:
    report = report_user(person(30), reporter=None, actor=ApiClient("classifier-v3"))
    assert report.reporter_kind == "integration"
    assert report.reporter_label == "classifier-v3"
    assert report.source_type == SourceType.OTHER_NOTIFICATION
    assert report.case.automated


def test_an_automated_rule_files_on_own_initiative() -> None:
    report = report_user(person(30), reporter=None, rule="spam-burst", actor=SystemActor("rules"))
    assert (report.reporter_kind, report.source_type) == ("automated", SourceType.VOLUNTARY)


@pytest.mark.parametrize(
    ("category", "keywords", "field"),
    [
        ("STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", [], "category"),
        ("NOT_A_CATEGORY", [], "category"),
        (HARASSMENT, ["KEYWORD_DISINFORMATION"], "keywords"),
        (HARASSMENT, ["KEYWORD_MADE_UP"], "keywords"),
    ],
)
def test_withdrawn_or_unknown_classifications_are_refused(
    category: str, keywords: list[str], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        report_user(person(30), reporter=person(31), category=category, keywords=keywords)
    assert field in caught.value.fields
    assert not Case.objects.exists()


def test_nobody_reports_their_own_account() -> None:
    me = person(30)
    with pytest.raises(DomainError):
        report_user(me, reporter=me)


def test_a_missing_subject_is_a_field_error() -> None:
    with pytest.raises(DomainError) as caught:
        services.file_report(
            actor=SystemActor("t"), subject_type="message", subject_id=999999, category=HARASSMENT,
            rule="x",
        )  # fmt: skip
    assert caught.value.code == "not_found"


def test_a_thread_report_names_no_single_account() -> None:
    a, b = person(30, dm="friends"), person(31, dm="friends")
    befriend(a, b)
    thread = direct_thread(a, b)
    report = report_thread(thread, reporter=a)
    assert report.case.subject_type == "thread"
    assert report.case.subject_user_id is None


def test_a_marked_reporters_report_still_makes_a_case_but_ranks_lower() -> None:
    from moderation.models import ReporterStanding
    from safety_portal.core.audit.actors import SystemActor as Sys

    reporter = person(22)
    ReporterStanding.objects.record_outcomes([reporter.pk] * 6, upheld=False, actor=Sys("t"))
    assert ReporterStanding.objects.is_marked(reporter.pk)
    report = report_user(person(30), reporter=reporter)
    assert report.low_credibility
    assert report.case.low_credibility
    assert report.case.priority_score == 60 - 20
    # A credible reporter joining lifts the penalty.
    report_user(report.case.subject_user, reporter=person(40))
    report.case.refresh_from_db()
    assert not report.case.low_credibility
    assert report.case.priority_score == 60


def test_a_report_saying_under_minimum_age_raises_an_age_flag_without_changing_the_age() -> None:
    from moderation.models import Flag

    subject = person(14)
    born = subject.birthdate
    report = report_user(
        subject,
        reporter=person(30),
        category=Category.PROTECTION_OF_MINORS,
        keywords=[CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS],
    )
    flag = Flag.objects.get(user=subject, kind="age")
    assert flag.status == "open"
    assert flag.signals[0]["report"] == report.pk
    subject.refresh_from_db()
    assert subject.birthdate == born


def test_grooming_keyword_case_counts_as_involving_a_minor() -> None:
    report = report_user(person(30), reporter=person(31), category=MINORS, keywords=[GROOMING])
    assert report.case.involves_minor
    assert report.case.priority == 1


def test_filing_a_report_costs_a_bounded_number_of_queries(
    django_assert_num_queries: Callable[..., object],
) -> None:
    subject, reporter = person(30), person(25)
    report_user(subject, reporter=person(26))  # the case exists; this report joins it
    # The manager's savepoint (the test's transaction is around it) 2; the case locked, read with
    # the subject's birthdate, "reported before?", the reporter's standing and the report's id 1;
    # on PostgreSQL the report, the case and the audit entry (deferred chain) in one statement 1
    # (D27); on SQLite the report 1, the case 1 and the inline chain's head and entry 2.
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 7):  # type: ignore[operator]
        report_user(subject, reporter=reporter)


def _wait_until_a_backend_waits_for_a_lock(timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    pytest.fail("the second report never waited for the case's lock")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and pg_locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_reporter_whose_earlier_report_commits_during_the_wait_for_the_case_counts_once() -> None:
    """The statement that locks the case also answers "reported before?", from a snapshot taken
    before it waited for the lock (READ COMMITTED). A report by the same person that committed
    during the wait is not in that snapshot: the manager notices (the case's report count moved)
    and asks again, so the person still counts once (`CaseQuerySet.locked_for_intake`)."""
    subject, first, reporter = person(30), person(25), person(26)
    report_user(subject, reporter=first)
    outcome: dict[str, object] = {}

    def the_same_reporter_again() -> None:
        try:
            outcome["case"] = report_user(subject, reporter=reporter).case_id
        except BaseException as exc:  # re-raised below, in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    waiting = threading.Thread(target=the_same_reporter_again)

    def hold_the_case_until_the_other_waits(report: Report) -> None:
        waiting.start()
        _wait_until_a_backend_waits_for_a_lock()

    held = report_user(subject, reporter=reporter, before_audit=hold_the_case_until_the_other_waits)
    waiting.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    assert outcome["case"] == held.case_id
    case = Case.objects.get(pk=held.case_id)
    assert (case.report_count, case.reporter_count) == (3, 2)
