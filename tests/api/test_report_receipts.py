"""Reports received with `Prefer: respond-async`: 202 and a receipt now, filed just after (D38)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from moderation import tasks
from moderation.actions import filing, receiving
from moderation.models import Report, ReportReceipt
from safety_portal.celery import app as celery_app
from safety_portal.core import clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.audit.models import AuditEntry
from tests.factories.messaging import person
from tests.factories.moderation import api_report_body

REPORTS = "/api/v1/reports/"
ASYNC = {"HTTP_PREFER": "respond-async"}


@pytest.fixture
def sender(make_caller):
    return make_caller("reports:write", name="classifier")


@pytest.fixture
def filer_stopped(monkeypatch):
    """No filer runs: receipts wait, as they do while every worker is down."""
    monkeypatch.setattr(receiving, "kick", lambda: None)


def _send(sender, subject_id: int, key: str, **extra):
    return sender.post(
        REPORTS, api_report_body(subject_id, **extra), HTTP_IDEMPOTENCY_KEY=key, **ASYNC
    )


def _break_filing_of(subject, monkeypatch):
    """Filing a report on `subject` fails with an unexpected error; the real function returned."""
    real = filing.file_report

    def flaky(**kwargs):
        if kwargs["subject_id"] == subject.pk:
            raise RuntimeError("the disk is on fire")
        return real(**kwargs)

    monkeypatch.setattr(receiving, "file_report", flaky)
    return real


@pytest.mark.django_db
def test_a_report_sent_async_is_answered_202_with_a_receipt_and_filed_behind_it(sender):
    subject = person(30)
    response = _send(sender, subject.pk, "a-1")
    assert response.status_code == 202, response.content
    assert response["Preference-Applied"] == "respond-async"
    body = response.json()
    assert body["status"] == "received"
    assert response["Location"] == body["status_url"]

    receipt = sender.get(body["status_url"]).json()
    report = Report.objects.get()
    assert receipt["status"] == "filed"
    assert receipt["report"] == {
        "id": report.pk,
        "case_id": report.case_id,
        "priority": report.case.priority,
    }
    assert receipt["error"] is None
    assert report.reporter_kind == "integration"
    assert report.subject_user_id == subject.pk
    filed = AuditEntry.objects.get(action="moderation.report.filed")
    who = identify(sender.client)  # the client that sent it, as if it had filed synchronously
    assert (filed.actor_kind, filed.actor_id) == (who.kind, who.id)


@pytest.mark.django_db
def test_a_report_filed_async_is_the_same_report_a_synchronous_request_files(sender):
    a, b = person(30), person(31)
    _send(sender, a.pk, "a-1", keywords=["KEYWORD_CYBER_HARASSMENT"])
    sender.post(
        REPORTS,
        api_report_body(b.pk, keywords=["KEYWORD_CYBER_HARASSMENT"]),
        HTTP_IDEMPOTENCY_KEY="s-1",
    )
    fields = [
        "reporter_kind",
        "category",
        "keywords",
        "explanation",
        "source_type",
        "case__priority",
    ]
    by_async, by_sync = (
        Report.objects.filter(subject_user=u).values(*fields).get() for u in (a, b)
    )
    assert by_async == by_sync


@pytest.mark.django_db
def test_body_errors_are_400_at_once_and_nothing_is_stored(sender):
    response = _send(sender, 1, "a-1", category="NOT_A_CATEGORY")
    assert response.status_code == 400
    assert "category" in response.json()["fields"]
    assert not ReportReceipt.objects.exists()


@pytest.mark.django_db
def test_a_refused_report_keeps_the_error_a_synchronous_request_would_have_had(sender):
    subject = person(30)
    missing = _send(sender, 987_654_321, "a-1").json()
    unknown_reporter = _send(sender, subject.pk, "a-2", reporter=987_654_321).json()

    sync = sender.post(REPORTS, api_report_body(987_654_321), HTTP_IDEMPOTENCY_KEY="s-1")
    refused = sender.get(missing["status_url"]).json()
    assert refused["status"] == "refused"
    assert refused["report"] is None
    assert refused["error"] == {"status": sync.status_code, **sync.json()}, sync.json()
    reporter = sender.get(unknown_reporter["status_url"]).json()
    assert reporter["error"]["fields"] == {"reporter": ["unknown user"]}
    assert not Report.objects.exists()
    entries = AuditEntry.objects.filter(action="moderation.report.refused")
    assert sorted(int(e.target_id) for e in entries) == sorted(
        [missing["id"], unknown_reporter["id"]]
    )


@pytest.mark.django_db
def test_the_same_key_replays_the_receipt_with_200_and_stores_one(sender):
    subject = person(30)
    first = _send(sender, subject.pk, "a-1")
    again = _send(sender, subject.pk, "a-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert ReportReceipt.objects.count() == 1
    assert Report.objects.count() == 1
    other = _send(sender, person(31).pk, "a-1")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_a_client_sees_only_its_own_receipts(sender, make_caller):
    receipt = _send(sender, person(30).pk, "a-1").json()
    stranger = make_caller("reports:write", name="another-service")
    assert stranger.get(receipt["status_url"]).status_code == 404
    assert sender.get(f"{REPORTS}receipts/not-a-number/").status_code == 404


@pytest.mark.django_db
def test_with_the_filer_stopped_receipts_wait_and_a_later_run_files_them_all(sender, filer_stopped):
    subjects = [person(20 + i) for i in range(3)]
    sent = [_send(sender, s.pk, f"a-{i}").json() for i, s in enumerate(subjects)]
    assert ReportReceipt.objects.waiting().count() == 3
    assert not Report.objects.exists()
    assert sender.get(sent[0]["status_url"]).json()["status"] == "received"

    assert tasks.file_received_reports() == 3
    assert Report.objects.count() == 3
    assert {sender.get(s["status_url"]).json()["status"] for s in sent} == {"filed"}
    assert tasks.file_received_reports() == 0


@pytest.mark.django_db
def test_a_receipt_whose_filing_fails_unexpectedly_stays_waiting_and_the_rest_are_filed(
    sender, filer_stopped, monkeypatch, caplog
):
    broken, fine = person(30), person(31)
    _send(sender, broken.pk, "a-1")
    _send(sender, fine.pk, "a-2")
    real = _break_filing_of(broken, monkeypatch)
    with caplog.at_level(logging.ERROR, logger=receiving.__name__):
        run = receiving.file_waiting()
    assert run.filed == 1
    assert len(run.failed) == 1
    assert not run.more
    stuck = ReportReceipt.objects.get(payload__subject_id=broken.pk)
    assert stuck.status == "received"
    assert stuck.attempts == 1
    assert stuck.last_failure == "RuntimeError"
    assert "could not be filed" in caplog.text
    assert "the disk is on fire" in caplog.text
    assert not Report.objects.filter(subject_user=broken).exists()

    monkeypatch.setattr(receiving, "file_report", real)
    assert receiving.file_waiting().filed == 1
    assert Report.objects.filter(subject_user=broken).count() == 1


@pytest.mark.django_db
def test_a_run_stops_at_its_limit_and_says_more_are_waiting(sender, filer_stopped):
    for i in range(3):
        _send(sender, person(20 + i).pk, f"a-{i}")
    run = receiving.file_waiting(limit=2)
    assert run.filed == 2
    assert run.more
    assert receiving.file_waiting(limit=2).filed == 1


@pytest.mark.django_db
def test_a_broker_that_is_down_costs_the_sender_nothing(sender, monkeypatch, caplog):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(receiving, "_last_kick", float("-inf"))

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(celery_app, "send_task", down)
    with caplog.at_level(logging.WARNING, logger=receiving.__name__):
        response = _send(sender, person(30).pk, "a-1")
    assert response.status_code == 202
    assert ReportReceipt.objects.waiting().count() == 1
    assert "beat's sweep files the receipt" in caplog.text


@pytest.mark.django_db
def test_kicks_from_one_process_are_at_most_one_per_interval(sender, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(receiving, "_last_kick", float("-inf"))
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, **kw: sent.append(name))
    for i in range(5):
        _send(sender, person(20 + i).pk, f"a-{i}")
    assert sent == [receiving.TASK]


@pytest.mark.django_db
def test_settled_receipts_are_purged_after_their_retention_and_waiting_ones_never(
    sender, filer_stopped, settings
):
    settings.MODERATION_RECEIPT_RETENTION_DAYS = 30
    old, recent = person(30), person(31)
    _send(sender, old.pk, "a-1")
    _send(sender, recent.pk, "a-2")
    receiving.file_waiting()
    ReportReceipt.objects.filter(payload__subject_id=old.pk).update(
        filed_at=clock.now() - dt.timedelta(days=31)
    )
    _send(sender, person(32).pk, "a-3")  # waiting
    assert tasks.purge_settled_receipts() == 1
    assert ReportReceipt.objects.count() == 2
    assert Report.objects.filter(subject_user=old).exists()  # the report itself stays


@pytest.mark.django_db(transaction=True)
def test_receiving_is_one_statement_after_authentication(
    sender, filer_stopped, django_assert_num_queries
):
    subject = person(30)
    _send(sender, subject.pk, "warm")
    with django_assert_num_queries(2):  # the token's look-up, then the receipt
        response = _send(sender, subject.pk, "a-1")
    assert response.status_code == 202
    receipt = ReportReceipt.objects.get(pk=response.json()["id"])
    assert (receipt.key, receipt.status) == ("a-1", "received")


# ---- one key, one request, whichever way it is sent ------------------------------------------


@pytest.mark.django_db
def test_a_key_filed_synchronously_and_sent_again_async_files_nothing_twice(sender):
    subject = person(30)
    sync = sender.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-1").json()
    receipt = sender.get(_send(sender, subject.pk, "k-1").json()["status_url"]).json()
    assert receipt["status"] == "filed"
    assert receipt["report"]["id"] == sync["id"]
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_key_filed_synchronously_and_sent_async_with_another_body_is_refused_409(sender):
    sender.post(REPORTS, api_report_body(person(30).pk), HTTP_IDEMPOTENCY_KEY="k-1")
    receipt = sender.get(_send(sender, person(31).pk, "k-1").json()["status_url"]).json()
    assert receipt["status"] == "refused"
    assert receipt["error"]["status"] == 409
    assert receipt["error"]["code"] == "idempotency_key_reused"
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_key_received_async_and_sent_again_synchronously_replays_the_receipt(sender):
    subject = person(30)
    first = _send(sender, subject.pk, "k-1").json()
    again = sender.post(REPORTS, api_report_body(subject.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200
    assert again.json() == first
    other = sender.post(REPORTS, api_report_body(person(31).pk), HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert Report.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_filers_at_once_file_every_receipt_exactly_once(sender, filer_stopped):
    subjects = [person(20 + i % 30) for i in range(24)]
    for i, s in enumerate(subjects):
        _send(sender, s.pk, f"a-{i}")
    barrier = threading.Barrier(2)
    runs: list[receiving.FilingRun] = []
    errors: list[BaseException] = []

    def filer() -> None:
        try:
            barrier.wait()
            runs.append(receiving.file_waiting())
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=filer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r.filed for r in runs) == 24
    assert Report.objects.count() == 24
    assert ReportReceipt.objects.filter(status="filed").count() == 24
    assert len(set(ReportReceipt.objects.values_list("report_id", flat=True))) == 24


@pytest.mark.django_db
def test_the_command_files_what_waits_and_exits_non_zero_naming_what_it_could_not(
    sender, filer_stopped, monkeypatch
):
    broken = person(30)
    for i, subject in enumerate([broken, person(31), person(32)]):
        _send(sender, subject.pk, f"a-{i}")
    real = _break_filing_of(broken, monkeypatch)
    out = io.StringIO()
    stuck = ReportReceipt.objects.get(payload__subject_id=broken.pk)
    with pytest.raises(CommandError, match=f"1 receipts could not be filed \\({stuck.pk}\\)"):
        call_command("file_received_reports", stdout=out, stderr=io.StringIO())
    assert "2 filed, 0 refused, 1 failed." in out.getvalue()
    monkeypatch.setattr(receiving, "file_report", real)
    call_command("file_received_reports", stdout=out, stderr=io.StringIO())
    assert "1 filed, 0 refused, 0 failed." in out.getvalue()
    with pytest.raises(CommandError, match="--limit"):
        call_command("file_received_reports", "--limit", "-1")


# ---- the database's guards -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_receipt_naming_a_client_that_does_not_exist_is_refused_by_the_database(sender):
    if connection.vendor != "postgresql":
        pytest.skip("the constraint trigger is PostgreSQL's")
    receipt = ReportReceipt(
        client_id=987_654_321,
        key="k",
        request_hash="x" * 64,
        received_at=clock.now(),
        payload={},
    )
    refused = pytest.raises(IntegrityError, match="API client 987654321 does not exist")
    # The check runs at commit; SET CONSTRAINTS ... IMMEDIATE runs it now, in a savepoint.
    with refused, transaction.atomic(), connection.cursor() as cursor:
        receipt.save(force_insert=True)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_an_api_client_is_never_deleted_so_its_receipts_and_entries_keep_naming_it(sender):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    refused = pytest.raises(IntegrityError, match="revoked, never deleted")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM integrations_apiclient WHERE id = %s", [sender.client.pk])
