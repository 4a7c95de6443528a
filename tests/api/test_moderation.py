"""Report intake with idempotency, cases, decisions, statements of reasons and the audit log."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from moderation.actions import filing
from moderation.models import Case, Decision, Flag, Report
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.api import idempotency
from safety_portal.core.api.models import IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import StaffFactory
from tests.factories.messaging import friendly_pair, person, send
from tests.factories.moderation import (
    FACTS,
    MINORS,
    SCAM,
    api_report_body,
    claimed,
    decided,
    report_user,
)

from .conftest import ADMIN

REPORTS, CASES = "/api/v1/reports/", "/api/v1/cases/"
STATEMENTS, AUDIT = "/api/v1/statements-of-reasons/", "/api/v1/audit-log/"


@pytest.fixture(params=["one statement", "one by one"])
def filing_path(request, monkeypatch) -> str:
    """Every intake test runs on both of filing's paths: on PostgreSQL a report joining an open
    case is written by one statement, the SQLite demo writes its rows one by one (D27)."""
    if request.param == "one by one":
        monkeypatch.setattr(filing, "one_statement_available", lambda: False)
    elif connection.vendor != "postgresql":
        pytest.skip("one statement needs PostgreSQL")
    return request.param


@pytest.fixture
def intake(make_caller, filing_path):
    return make_caller("reports:write", name="classifier")


@pytest.fixture
def moderator(db):
    return StaffFactory(roles=["Moderator"])


# ---- reports and idempotency ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_opens_a_case_and_answers_its_priority(intake):
    subject = person(30)
    response = intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="r-1")
    assert response.status_code == 201, response.content
    body = response.json()
    report = Report.objects.get(pk=body["id"])
    assert body == {"id": report.pk, "case_id": report.case_id, "priority": report.case.priority}
    assert report.reporter_kind == "integration"
    entry = AuditEntry.objects.get(action="moderation.report.filed")
    assert (entry.actor_kind, entry.actor_label) == ("api_client", "classifier")


@pytest.mark.django_db
def test_the_same_key_and_body_answer_the_same_with_200_and_file_once(intake):
    subject = person(30)
    first = intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    again = intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_409(intake):
    subject = person(30)
    intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-2")
    other = intake.post(
        REPORTS, api_report_body(subject.pk, explanation="different"), HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_reused_key_is_409_even_when_the_new_request_would_fail(intake):
    subject = person(30)
    intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-5")
    other = intake.post(REPORTS, api_report_body(99_999_999), HTTP_IDEMPOTENCY_KEY="k-5")
    assert other.status_code == 409


@pytest.mark.django_db
def test_key_order_and_whitespace_do_not_make_another_body(intake):
    subject = person(30)
    body = api_report_body(subject.pk)
    intake.post(REPORTS, body, HTTP_IDEMPOTENCY_KEY="k-3")
    reordered = dict(reversed(list(body.items())))
    assert intake.post(REPORTS, reordered, HTTP_IDEMPOTENCY_KEY="k-3").status_code == 200


@pytest.mark.django_db
def test_clients_never_see_each_others_idempotency_records(make_caller):
    one, two = make_caller("reports:write"), make_caller("reports:write")
    subject = person(30)
    first = one.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="shared-key")
    mine = two.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="shared-key")
    assert (first.status_code, mine.status_code) == (201, 201)
    assert mine.json()["id"] != first.json()["id"]
    different = two.post(
        REPORTS, api_report_body(subject.pk, explanation="x"), HTTP_IDEMPOTENCY_KEY="other"
    )
    assert different.status_code == 201
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


@pytest.mark.django_db
def test_a_failed_request_keeps_no_record_so_the_key_can_be_retried(intake):
    subject = person(30)
    missing = intake.post(REPORTS, api_report_body(99_999_999), HTTP_IDEMPOTENCY_KEY="k-4")
    assert missing.status_code == 404
    assert not IdempotencyRecord.objects.exists()
    ok = intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-4")
    assert ok.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "with space", "é", "x" * 256])
def test_a_missing_or_malformed_idempotency_key_is_400(intake, key):
    subject = person(30)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = intake.post(REPORTS, api_report_body(subject.pk), **headers)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert not Report.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_file_one_report(make_caller):
    """Two requests racing with one key: one files, the other waits and replays its answer."""
    intake = make_caller("reports:write")
    subject = person(30)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        from .conftest import Caller

        caller = Caller(intake.client, intake.token)
        barrier.wait()
        response = caller.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="race")
        answers.append((response.status_code, response.json()))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in answers) == [200, 201]
    assert answers[0][1] == answers[1][1]
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_report_input_errors_are_400_and_unknown_subjects_404(intake):
    subject = person(30)
    withdrawn = intake.post(
        REPORTS,
        api_report_body(subject.pk, category="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
        HTTP_IDEMPOTENCY_KEY="e-1",
    )
    assert withdrawn.status_code == 400
    assert "category" in withdrawn.json()["fields"]
    unknown_reporter = intake.post(
        REPORTS, api_report_body(subject.pk, reporter=99_999_999), HTTP_IDEMPOTENCY_KEY="e-2"
    )
    assert unknown_reporter.json()["fields"] == {"reporter": ["unknown user"]}
    for subject_type in ("user", "message", "thread"):
        missing = intake.post(
            REPORTS,
            api_report_body(99_999_999, subject_type=subject_type),
            HTTP_IDEMPOTENCY_KEY=f"e-{subject_type}",
        )
        assert missing.status_code == 404, subject_type
    not_flagger = intake.post(
        REPORTS,
        api_report_body(subject.pk, source_type="SOURCE_TRUSTED_FLAGGER"),
        HTTP_IDEMPOTENCY_KEY="e-3",
    )
    assert not_flagger.status_code == 400


@pytest.mark.django_db
def test_a_user_report_about_a_message_names_the_reporter(intake):
    a, b = friendly_pair()
    from messaging.models import Thread

    thread = Thread.objects.start(creator=a, participants=[b], actor=ADMIN)
    message = send(a, thread, "you are worthless")
    response = intake.post(
        REPORTS,
        api_report_body(
            message.pk, subject_type="message", reporter=b.pk, source_type="SOURCE_ARTICLE_16"
        ),
        HTTP_IDEMPOTENCY_KEY="m-1",
    )
    assert response.status_code == 201, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert (report.reporter_id, report.subject_message_id) == (b.pk, message.pk)


@pytest.mark.django_db
def test_an_age_report_raises_an_age_flag(intake):
    subject = person(14)
    response = intake.post(
        REPORTS,
        api_report_body(
            subject.pk,
            category=MINORS,
            keywords=["KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"],
        ),
        HTTP_IDEMPOTENCY_KEY="age-1",
    )
    assert response.status_code == 201
    assert Flag.objects.filter(user=subject, kind="age", status="open").exists()


# ---- cases ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cases_can_be_filtered_and_paged(make_caller):
    reader = make_caller("cases:read")
    teen, adult = person(15), person(40)
    minor_case = report_user(teen, category=MINORS, reporter=person(35)).case
    adult_case = report_user(adult, reporter=person(35)).case
    listed = reader.get(CASES).json()["results"]
    assert [c["id"] for c in listed] == [adult_case.pk, minor_case.pk]
    minors = reader.get(CASES, {"involving_minors": "true"}).json()["results"]
    assert [c["id"] for c in minors] == [minor_case.pk]
    not_minors = reader.get(CASES, {"involving_minors": "false"}).json()["results"]
    assert [c["id"] for c in not_minors] == [adult_case.pk]
    by_category = reader.get(CASES, {"category": MINORS}).json()["results"]
    assert [c["id"] for c in by_category] == [minor_case.pk]
    by_priority = reader.get(CASES, {"priority": minor_case.priority}).json()["results"]
    assert minor_case.pk in [c["id"] for c in by_priority]
    assert reader.get(CASES, {"status": "decided"}).json()["results"] == []
    page = reader.get(CASES, {"page_size": 1}).json()
    assert len(page["results"]) == 1
    assert reader.get(page["next"]).json()["results"][0]["id"] == minor_case.pk
    for bad in ({"status": "x"}, {"priority": "9"}, {"involving_minors": "maybe"}):
        assert reader.get(CASES, bad).status_code == 400


@pytest.mark.django_db
def test_a_case_shows_its_decisions_and_strikes(make_caller, moderator):
    reader = make_caller("cases:read")
    subject = person(30)
    case = report_user(subject, reporter=person(35)).case
    decided(case, moderator, "warn")
    body = reader.get(f"{CASES}{case.pk}/").json()
    assert body["status"] == "decided"
    assert body["subject_id"] == subject.pk
    assert [d["type"] for d in body["decisions"]] == ["warn"]
    assert body["active_strikes"] == 1
    assert reader.get(f"{CASES}999999/").status_code == 404


# ---- decisions ------------------------------------------------------------------------------------


def _decision(moderator, **extra) -> dict:
    return {
        "moderator": moderator.pk,
        "decision_type": "suspend",
        "days": 7,
        "ground": "tc_harassment",
        "facts": FACTS,
        **extra,
    }


@pytest.mark.django_db
def test_a_decision_is_taken_for_the_named_moderator_and_the_client_is_recorded(
    make_caller, moderator
):
    tool = make_caller("decisions:write", name="partner-tools")
    subject = person(30)
    case = report_user(subject, reporter=person(35)).case
    response = tool.post(f"{CASES}{case.pk}/decisions/", _decision(moderator))
    assert response.status_code == 201, response.content
    body = response.json()
    decision = Decision.objects.get(pk=body["id"])
    assert decision.decided_by_id == moderator.pk
    assert body["type"] == "suspend"
    assert body["statement_puid"]
    assert body["ends_at"] is not None
    case.refresh_from_db()
    assert case.status == "decided"
    taken = AuditEntry.objects.get(action="moderation.decision.taken")
    assert taken.actor_id == str(moderator.pk)
    via = AuditEntry.objects.get(action="moderation.decision.via_api")
    assert (via.actor_kind, via.actor_label) == ("api_client", "partner-tools")
    assert via.after["moderator"] == moderator.pk
    again = tool.post(f"{CASES}{case.pk}/decisions/", _decision(moderator))
    assert again.status_code == 409


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(rules.decisions.NEEDS_CONFIRMATION))
def test_a_decision_that_cannot_be_undone_needs_confirm_true_and_writes_nothing_without_it(
    make_caller, kind
):
    tool = make_caller("decisions:write")
    senior = StaffFactory(roles=["Senior moderator"])
    case = report_user(person(30), reporter=person(35)).case
    body = {"moderator": senior.pk, "decision_type": kind, "facts": FACTS}
    if kind == "terminate":
        body["ground"] = "tc_harassment"
    for refused in (body, {**body, "confirm": False}):
        response = tool.post(f"{CASES}{case.pk}/decisions/", refused)
        assert response.status_code == 400, response.content
        assert "confirm" in response.json()["fields"]
    case.refresh_from_db()
    assert (case.status, case.claimed_by_id) == ("open", None)  # not even claimed
    assert not Decision.objects.filter(case=case).exists()
    assert not AuditEntry.objects.filter(action__startswith="moderation.decision").exists()
    taken = tool.post(f"{CASES}{case.pk}/decisions/", {**body, "confirm": True})
    assert taken.status_code == 201, taken.content
    assert taken.json()["type"] == kind


@pytest.mark.django_db
def test_a_reversible_decision_needs_no_confirm(make_caller, moderator):
    tool = make_caller("decisions:write")
    case = report_user(person(30), reporter=person(35)).case
    response = tool.post(f"{CASES}{case.pk}/decisions/", _decision(moderator, confirm=False))
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_decision_needs_a_moderator_holding_the_role(make_caller):
    tool = make_caller("decisions:write")
    case = report_user(person(30), reporter=person(35)).case
    triage = StaffFactory(roles=["Triage"])
    app_user = person(30)
    for who in (triage, app_user):
        response = tool.post(f"{CASES}{case.pk}/decisions/", _decision(who))
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "not_permitted"
    case.refresh_from_db()
    assert (case.status, case.claimed_by_id) == ("open", None)  # nothing half-written
    unknown = tool.post(f"{CASES}{case.pk}/decisions/", {**_decision(triage), "moderator": 99999})
    assert unknown.status_code == 400


@pytest.mark.django_db
def test_a_case_held_by_another_moderator_is_409(make_caller, moderator):
    tool = make_caller("decisions:write")
    case = report_user(person(30), reporter=person(35)).case
    claimed(case, StaffFactory(roles=["Moderator"]))
    response = tool.post(f"{CASES}{case.pk}/decisions/", _decision(moderator))
    assert response.status_code == 409
    assert response.json()["code"] == "claimed_by_another"


@pytest.mark.django_db
def test_an_incomplete_decision_is_400_with_fields(make_caller, moderator):
    tool = make_caller("decisions:write")
    case = report_user(person(30), reporter=person(35)).case
    missing = tool.post(
        f"{CASES}{case.pk}/decisions/", {**_decision(moderator), "days": None, "ground": ""}
    )
    assert missing.status_code == 400
    # Without days a suspension lasts until lifted: a senior's power (issue 5), and even a
    # senior must give a suspension a duration (termination is the open-ended one).
    no_days = {k: v for k, v in _decision(moderator).items() if k != "days"}
    refused = tool.post(f"{CASES}{case.pk}/decisions/", no_days)
    assert refused.json()["code"] == "not_permitted"
    senior = StaffFactory(roles=["Senior moderator"])
    response = tool.post(f"{CASES}{case.pk}/decisions/", {**no_days, "moderator": senior.pk})
    assert "days" in response.json()["fields"]
    assert tool.post(f"{CASES}999999/decisions/", _decision(moderator)).status_code == 404


@pytest.mark.django_db
def test_a_decision_queues_signed_webhooks_for_subscribed_clients(
    make_caller, moderator, django_capture_on_commit_callbacks
):
    partner = make_caller("cases:read", name="hotline").client
    WebhookEndpoint.objects.register(
        client=partner,
        url="http://127.0.0.1:9/never-called",
        events=["decision.taken", "case.closed"],
        actor=ADMIN,
    )
    tool = make_caller("decisions:write")
    case = report_user(person(30), reporter=person(35)).case
    with django_capture_on_commit_callbacks(execute=False):
        tool.post(f"{CASES}{case.pk}/decisions/", _decision(moderator))
    events = sorted(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert events == ["case.closed", "decision.taken"]
    payload = WebhookDelivery.objects.get(event_type="decision.taken").payload
    assert payload["case_id"] == case.pk
    assert payload["type"] == "suspend"


# ---- statements of reasons and the audit log ------------------------------------------------------


@pytest.mark.django_db
def test_statements_of_reasons_validate_against_the_transparency_schema(make_caller, moderator):
    reader = make_caller("sor:read")
    decided(report_user(person(30), reporter=person(35)).case, moderator, "suspend", days=3)
    decided(report_user(person(31), reporter=person(35)).case, moderator, "no_violation")
    body = reader.get(STATEMENTS).json()
    assert len(body["statements"]) == 1
    assert body["next"] is None
    assert rules.sor_schema.validate_batch({"statements": body["statements"]}) == []
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    assert reader.get(STATEMENTS, {"since": tomorrow}).json()["statements"] == []
    assert reader.get(STATEMENTS, {"since": "yesterday"}).status_code == 400


@pytest.mark.django_db
def test_statements_come_in_batches_of_at_most_100(make_caller, moderator):
    reader = make_caller("sor:read")
    for _ in range(3):
        case = report_user(person(30), reporter=person(35)).case
        decided(case, moderator, "restrict_feature", feature="comments", days=3)
    first = reader.get(STATEMENTS, {"page_size": 2}).json()
    assert len(first["statements"]) == 2
    assert len(reader.get(first["next"]).json()["statements"]) == 1
    assert reader.get(STATEMENTS, {"page_size": 500}).json()["next"] is None


@pytest.mark.django_db
def test_the_audit_log_filters_by_action_and_time(make_caller):
    reader = make_caller("audit:read")
    person(30)
    exact = reader.get(AUDIT, {"action": "accounts.user.created"}).json()["results"]
    assert exact
    assert {e["action"] for e in exact} == {"accounts.user.created"}
    prefix = reader.get(AUDIT, {"action": "integrations."}).json()["results"]
    assert {e["action"] for e in prefix} == {"integrations.api_client.created"}
    everything = reader.get(AUDIT).json()["results"]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    future = (clock.now() + dt.timedelta(hours=1)).isoformat()
    assert reader.get(AUDIT, {"since": future}).json()["results"] == []
    assert reader.get(AUDIT, {"since": "2025-13-45"}).status_code == 400


@pytest.mark.django_db
def test_the_audit_log_never_shows_api_tokens(make_caller):
    reader = make_caller("audit:read")
    entries = reader.get(AUDIT, {"action": "integrations."}).content.decode()
    assert reader.token not in entries
    assert reader.token[len("spk_") + 13 :] not in entries
    assert Case.objects.count() == 0  # nothing else was touched


@pytest.mark.django_db
def test_report_intake_costs_a_constant_number_of_queries(
    intake, filing_path, django_assert_num_queries
):
    """The hot path, the same however many reports the case already has: authentication 1;
    the request's transaction 2 (`file_report`'s own; a savepoint here, BEGIN/COMMIT in
    production); the open case locked, read together with the subject's birthdate, whether this
    reporter reported it before and the report's id 1; then on PostgreSQL one statement for the
    report, the case, the idempotency record and the audit entry (D27); one by one 4, and on
    SQLite 5 (its chain is linked inline: the head is read before the entry)."""
    subject = person(30)
    one_by_one = 8 if connection.vendor == "postgresql" else 9
    expected = 5 if filing_path == "one statement" else one_by_one
    intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="q-0")
    with django_assert_num_queries(expected):
        assert (
            intake.post(
                REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="q-1"
            ).status_code
            == 201
        )
    for i in range(2, 30):
        intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY=f"q-{i}")
    with django_assert_num_queries(expected):
        assert (
            intake.post(
                REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="q-x"
            ).status_code
            == 201
        )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the chain lock is a PostgreSQL advisory lock"
)
@pytest.mark.django_db
def test_report_intake_with_the_inline_chain_writes_its_entry_after_the_statement(
    inline_audit_chain, intake, filing_path, django_assert_num_queries
):
    """With the inline writer (D3) the entry must be the last write, under the chain's lock:
    the one statement then carries the report, the case and the idempotency record, and the
    entry follows (the chain head locked and read 1, the entry 1)."""
    subject = person(30)
    intake.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="i-0")
    with django_assert_num_queries(7 if filing_path == "one statement" else 9):
        assert (
            intake.post(
                REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="i-1"
            ).status_code
            == 201
        )


def _writes_while_the_audit_chain_is_locked(queries: list[dict]) -> list[str]:
    """INSERT/UPDATE/DELETE statements, other than audit entries, from the moment the request's
    transaction took the audit chain's lock until it ended (here: released its savepoint)."""
    sqls = [q["sql"] for q in queries]
    name = next(s for s in sqls if s.startswith("SAVEPOINT ")).split()[1]
    start = next(i for i, s in enumerate(sqls) if "pg_advisory_xact_lock" in s)
    end = sqls.index(f"RELEASE SAVEPOINT {name}")
    return [
        s.split(" (")[0]
        for s in sqls[start:end]
        if s.startswith(("INSERT", "UPDATE", "DELETE"))
        and not s.startswith('INSERT INTO "audit_auditentry"')
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the chain lock is a PostgreSQL advisory lock"
)
@pytest.mark.django_db
def test_report_intake_writes_its_audit_entries_last(inline_audit_chain, intake, make_caller):
    """Every other write of the intake comes before its audit entries: with the inline writer
    (AUDIT_CHAIN_DEFERRED=false) the first entry takes the audit chain's lock, which every audited
    write in the system waits for until this transaction commits (docs/decisions.md D3). Checked
    on the plain path, on a case opening that queues a webhook, and on an age report that raises a
    flag and the case's priority."""
    partner = make_caller("cases:read", name="hotline").client
    WebhookEndpoint.objects.register(
        client=partner,
        url="http://127.0.0.1:9/never-called",
        events=["case.opened"],
        actor=ADMIN,
    )
    adult, teen = person(30), person(14)
    age_report = api_report_body(
        teen.pk, category=MINORS, keywords=["KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"]
    )
    posts = [
        ("opens a case", api_report_body(adult.pk)),
        ("joins it", api_report_body(adult.pk)),
        ("opens another", api_report_body(teen.pk, category=SCAM)),
        ("age signal", age_report),
    ]
    for n, (label, body) in enumerate(posts):
        with CaptureQueriesContext(connection) as ctx:
            response = intake.post(REPORTS, body, HTTP_IDEMPOTENCY_KEY=f"last-{n}")
        assert response.status_code == 201, (label, response.content)
        assert _writes_while_the_audit_chain_is_locked(ctx.captured_queries) == [], label
    # The scenarios did write what they were meant to check.
    assert WebhookDelivery.objects.filter(event_type="case.opened").count() == 2
    assert Flag.objects.filter(user=teen, kind="age", status="open").exists()
    assert AuditEntry.objects.filter(action="moderation.case.priority_raised").exists()
    assert IdempotencyRecord.objects.count() == len(posts)


def _forgets_to_write(remember: idempotency.Remember) -> None:
    with transaction.atomic():
        remember.unsaved(201, {"id": 1})  # handed over for the caller's statement, never written


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "refusal"),
    [
        (lambda remember: None, "without remembering"),
        (_forgets_to_write, "never wrote the record"),
    ],
    ids=["never remembered", "remembered unsaved, never written"],
)
def test_an_action_that_never_records_its_answer_is_a_programming_error(intake, action, refusal):
    """The record is what makes a retry safe: work that finished without it is refused loudly,
    whether the action never remembered its answer or took the record unsaved for its own
    statement (`remember.unsaved()`) and never wrote it."""
    with pytest.raises(RuntimeError, match=refusal):
        idempotency.run_once(
            client=intake.client, key="never", method="POST", path=REPORTS, data={}, action=action
        )
    assert not IdempotencyRecord.objects.exists()
