"""Appeals from the app (DSA art. 20, issue 12.1) and a reporter's view of their reports (DSA art.
16(5), issue 12.3), over the API: the service's rules with their reason codes, idempotent, audited;
the appeal waits in the portal's queue and its outcome reaches the appellant."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moderation import services
from moderation.models import Appeal, Notice
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from tests.factories.messaging import person
from tests.factories.moderation import claimed, decided, report_user

pytestmark = pytest.mark.django_db
APPEALS, REPORTS = "/api/v1/appeals/", "/api/v1/reports/"


@pytest.fixture
def app(make_caller):
    return make_caller(["appeals:write", "appeals:read", "reports:read"], name="the app")


def suspension(moderator, *, reporter=None):
    subject = person(30)
    report = report_user(subject, reporter=reporter or person(35))
    return subject, decided(report.case, moderator, "suspend", days=3)


def body(decision, appellant, **extra):
    return {
        "decision": decision.pk,
        "appellant": appellant.pk,
        "statement": "It was a quote from a film, not a threat.",
        **extra,
    }


def test_the_person_a_decision_concerns_files_an_appeal_that_joins_the_portal_queue(
    app, moderator
) -> None:
    subject, decision = suspension(moderator)
    response = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    assert response.status_code == 201, response.content
    answer = response.json()
    appeal = Appeal.objects.get(pk=answer["id"])
    assert (answer["status"], answer["decision"], answer["kind"]) == (
        "pending",
        decision.pk,
        "decision",
    )
    assert list(Appeal.objects.pending()) == [appeal]
    entry = AuditEntry.objects.get(action="moderation.appeal.filed")
    assert (entry.actor_kind, entry.actor_label) == ("api_client", "the app")
    assert Notice.objects.filter(recipient=subject, kind=Notice.Kind.APPEAL_RECEIVED).count() == 1


def test_an_appeal_retried_with_its_key_is_filed_once_and_another_body_is_409(
    app, moderator
) -> None:
    subject, decision = suspension(moderator)
    first = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    again = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    other = app.post(
        APPEALS, body(decision, subject, statement="Changed my mind."), HTTP_IDEMPOTENCY_KEY="a-1"
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert other.json()["code"] == "idempotency_key_reused"
    assert Appeal.objects.count() == 1


def test_a_decision_is_appealed_once(app, moderator) -> None:
    subject, decision = suspension(moderator)
    app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    second = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-2")
    assert (second.status_code, second.json()["code"]) == (409, "already_appealed")


def test_only_the_person_concerned_may_appeal_a_sanction_and_a_reporter_a_no_violation(
    app, moderator
) -> None:
    reporter = person(35)
    _subject, sanction = suspension(moderator, reporter=reporter)
    by_reporter = app.post(APPEALS, body(sanction, reporter), HTTP_IDEMPOTENCY_KEY="a-1")
    assert (by_reporter.status_code, by_reporter.json()["code"]) == (403, "not_permitted")

    cleared = decided(report_user(person(31), reporter=reporter).case, moderator, "no_violation")
    accepted = app.post(APPEALS, body(cleared, reporter), HTTP_IDEMPOTENCY_KEY="a-2")
    stranger = app.post(APPEALS, body(cleared, person(40)), HTTP_IDEMPOTENCY_KEY="a-3")
    assert accepted.status_code == 201
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_permitted")


def test_an_appeal_after_the_window_is_refused_with_the_date_it_closed(app, moderator) -> None:
    subject, decision = suspension(moderator)
    closes = services.appeal_deadline_of(decision)
    with time_machine.travel(closes + dt.timedelta(minutes=1)):
        late = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    assert (late.status_code, late.json()["code"]) == (409, "appeal_window_closed")
    assert not Appeal.objects.exists()


def test_bad_appeal_input_gets_field_errors_and_an_unknown_decision_404(app, moderator) -> None:
    subject, decision = suspension(moderator)
    empty = app.post(APPEALS, {"decision": decision.pk}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert empty.status_code == 400
    assert {"appellant", "statement"} <= set(empty.json()["fields"])
    missing = app.post(
        APPEALS, {**body(decision, subject), "decision": 987654}, HTTP_IDEMPOTENCY_KEY="a-2"
    )
    assert missing.status_code == 404
    no_key = app.post(APPEALS, body(decision, subject))
    assert (no_key.status_code, no_key.json()["code"]) == (400, "idempotency_key_required")
    assert not Appeal.objects.exists()


def test_an_under_age_decision_is_appealed_only_with_age_evidence(app, senior) -> None:
    subject = person(13)
    report = report_user(subject, reporter=person(35))
    decision = decided(report.case, senior, "require_age_verification", ground="")
    bare = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1")
    assert bare.status_code == 400
    assert {"evidence_method", "evidence_reference"} <= set(bare.json()["fields"])
    with_evidence = app.post(
        APPEALS,
        body(decision, subject, evidence_method="id_document", evidence_reference="yoti:4f1c"),
        HTTP_IDEMPOTENCY_KEY="a-2",
    )
    assert (with_evidence.status_code, with_evidence.json()["kind"]) == (201, "under_age")


def test_the_appeal_status_follows_the_seniors_decision_and_the_appellant_is_told(
    app, moderator, senior
) -> None:
    subject, decision = suspension(moderator)
    filed = app.post(APPEALS, body(decision, subject), HTTP_IDEMPOTENCY_KEY="a-1").json()
    services.decide_appeal(
        Appeal.objects.get(pk=filed["id"]), actor=senior, overturn=True, note="A film quote."
    )
    status = app.get(f"{APPEALS}{filed['id']}/").json()
    assert (status["status"], status["decided_at"] is not None) == ("overturned", True)
    assert "reviewer" not in status
    assert Notice.objects.filter(recipient=subject, kind=Notice.Kind.APPEAL_DECIDED).count() == 1
    assert app.get(f"{APPEALS}999999/").status_code == 404


# ---- a reporter's reports ------------------------------------------------------------------------


def test_a_reporter_sees_each_report_status_and_until_when_a_no_violation_may_be_appealed(
    app, moderator
) -> None:
    reporter = person(35)
    received = report_user(person(30), reporter=reporter)
    reviewing = report_user(person(31), reporter=reporter)
    claimed(reviewing.case, moderator)
    acted = report_user(person(32), reporter=reporter)
    decided(acted.case, moderator, "suspend", days=3)
    cleared = report_user(person(33), reporter=reporter)
    no_violation = decided(cleared.case, moderator, "no_violation")
    report_user(person(34), reporter=person(36))  # someone else's report

    rows = {r["id"]: r for r in app.get(REPORTS, {"reporter": reporter.pk}).json()["results"]}
    assert set(rows) == {received.pk, reviewing.pk, acted.pk, cleared.pk}
    assert [rows[r.pk]["status"] for r in (received, reviewing, acted, cleared)] == [
        "received",
        "under_review",
        "action_taken",
        "no_violation",
    ]
    assert rows[acted.pk]["appealable_until"] is None  # the reporter cannot appeal a sanction
    assert rows[acted.pk]["decision"] is None  # nor learn which one it was
    assert rows[cleared.pk]["decision"] == no_violation.pk
    deadline = dt.datetime.fromisoformat(rows[cleared.pk]["appealable_until"])
    assert deadline == services.appeal_deadline_of(no_violation)

    app.post(APPEALS, body(no_violation, reporter), HTTP_IDEMPOTENCY_KEY="a-1")
    after = {r["id"]: r for r in app.get(REPORTS, {"reporter": reporter.pk}).json()["results"]}
    assert after[cleared.pk]["appealable_until"] is None  # appealed: nothing left to appeal


def test_a_reporters_reports_need_the_reporter_and_the_scope_and_a_bounded_number_of_queries(
    app, make_caller, moderator
) -> None:
    reporter = person(35)
    for age in range(30, 40):
        report = report_user(person(age), reporter=reporter)
        if age % 2:
            decided(report.case, moderator, "no_violation")
    assert app.get(REPORTS).status_code == 400
    assert app.get(REPORTS, {"reporter": "abc"}).json()["fields"] == {"reporter": ["required"]}
    assert make_caller("reports:write").get(REPORTS, {"reporter": reporter.pk}).status_code == 403
    with CaptureQueriesContext(connection) as queries:
        page = app.get(REPORTS, {"reporter": reporter.pk, "page_size": 10})
    assert len(page.json()["results"]) == 10
    # auth, throttle bookkeeping aside: one page query and one for its decisions
    assert len([q for q in queries if "moderation_" in q["sql"]]) <= 2
    assert clock.now()  # the clock is real here: deadlines are measured from now
