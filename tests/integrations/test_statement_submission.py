"""Statements of reasons reach the DSA Transparency Database once each, whatever the network does
(issue 12.4). Every test talks to a local server on a real socket (tdb_server.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
import time_machine

from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.integrations import statement_submission
from safety_portal.integrations.models import StatementSubmission
from safety_portal.integrations.transparency_db import Answer, Kind

from .tdb_server import Trouble

pytestmark = pytest.mark.django_db

ACTOR = SystemActor("test.submit_statements")
Status = StatementSubmission.Status


def run() -> statement_submission.RunSummary:
    return statement_submission.run(actor=ACTOR)


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


def statuses() -> dict[str, str]:
    return dict(StatementSubmission.objects.values_list("statement__puid", "status"))


def test_statements_go_in_batches_of_at_most_100_and_each_is_accepted_once(tdb, make_statements):
    made = make_statements(250)
    summary = run()
    assert [len(call) for call in tdb.state.calls] == [100, 100, 50]
    assert summary.batch_sizes == [100, 100, 50]
    assert (summary.accepted, summary.pending, summary.stopped) == (250, 0, None)
    assert set(statuses().values()) == {Status.ACCEPTED}
    assert set(tdb.state.created) == {s.puid for s in made}
    assert set(tdb.state.created.values()) == {1}
    row = StatementSubmission.objects.get(statement=made[0])
    assert row.tdb_uuid == tdb.state.stored[made[0].puid]
    assert row.accepted_at is not None
    assert row.attempts == 1


def test_an_accepted_statement_is_never_sent_again(tdb, make_statements):
    make_statements(3)
    run()
    again = run()
    assert len(tdb.state.calls) == 1
    assert (again.batches, again.sent) == (0, 0)


def test_an_invalid_statement_is_rejected_with_the_servers_error_and_the_rest_are_resent(
    tdb, make_statements
):
    made = make_statements(5, bad=(2,))
    summary = run()
    # The documented API creates nothing of a call with an invalid statement: the four good ones
    # go again in a second call, without the bad one.
    assert tdb.state.statuses == [422, 201]
    assert tdb.state.calls[1] == [s.puid for i, s in enumerate(made) if i != 2]
    assert (summary.accepted, summary.rejected, summary.pending) == (4, 1, 0)
    bad = StatementSubmission.objects.get(statement=made[2])
    assert bad.status == Status.REJECTED
    assert bad.last_error == "decision_ground: The selected decision ground is invalid."
    assert bad.last_status_code == 422
    assert made[2].puid not in tdb.state.stored


def test_a_rejected_statement_is_not_sent_again(tdb, make_statements):
    make_statements(2, bad=(1,))
    run()
    calls = len(tdb.state.calls)
    run()
    assert len(tdb.state.calls) == calls


def test_a_duplicate_puid_answer_counts_as_already_accepted(tdb, make_statements):
    made = make_statements(5)
    for statement in made[:2]:  # in the database already (an answer we never received)
        tdb.state.stored[statement.puid] = "earlier-uuid"
    summary = run()
    assert tdb.state.statuses == [422, 201]
    assert tdb.state.calls[1] == [s.puid for s in made[2:]]
    assert (summary.already_accepted, summary.accepted, summary.pending) == (2, 3, 0)
    assert set(statuses().values()) == {Status.ACCEPTED}
    assert all(n == 1 for n in tdb.state.created.values())
    assert not any(p in tdb.state.created for p in (made[0].puid, made[1].puid))


def test_429_waits_for_retry_after_then_sends(tdb, make_statements):
    make_statements(3)
    tdb.state.troubles = [Trouble(status=429, headers={"Retry-After": "120"})]
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        first = run()
        assert (first.stopped, first.pending) == (Kind.RATE_LIMITED, 3)
        row = StatementSubmission.objects.first()
        assert row.next_attempt_at == start + dt.timedelta(seconds=120)
        assert row.last_error.startswith("HTTP 429")
        traveller.shift(dt.timedelta(seconds=119))
        assert run().sent == 0  # not yet
        traveller.shift(dt.timedelta(seconds=1))
        second = run()
    assert (second.accepted, second.pending) == (3, 0)


def test_server_errors_are_retried_with_exponential_backoff(tdb, make_statements):
    make_statements(2)
    tdb.state.troubles = [Trouble(status=503), Trouble(status=500)]
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert run().stopped is Kind.UNAVAILABLE
        row = StatementSubmission.objects.first()
        assert (row.attempts, row.last_status_code) == (1, 503)
        assert row.next_attempt_at == start + dt.timedelta(seconds=60)
        traveller.move_to(row.next_attempt_at)
        run()
        row.refresh_from_db()
        assert (row.attempts, row.last_status_code) == (2, 500)
        assert row.next_attempt_at == start + dt.timedelta(seconds=60 + 120)
        traveller.move_to(row.next_attempt_at)
        last = run()
    assert (last.accepted, last.pending) == (2, 0)
    assert set(tdb.state.created.values()) == {1}


def test_a_timeout_is_retried_and_a_batch_stored_despite_it_is_not_stored_twice(
    tdb, make_statements, settings
):
    settings.TRANSPARENCY_DB_TIMEOUT_SECONDS = 1
    made = make_statements(3)
    # The server takes longer than the client waits, but stores the statements anyway.
    tdb.state.troubles = [Trouble(delay=1.6, then_store=True)]
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        first = run()
        assert first.stopped is Kind.UNAVAILABLE
        assert "timed out" in first.error
        assert set(statuses().values()) == {Status.PENDING}
        wait_until(lambda: len(tdb.state.statuses) == 1)  # the slow call has now stored them
        traveller.shift(dt.timedelta(seconds=61))
        second = run()
    assert (second.already_accepted, second.pending) == (3, 0)
    assert {p: tdb.state.created[p] for p in (s.puid for s in made)} == {s.puid: 1 for s in made}


def test_loses_no_statement_when_the_server_is_down(tdb, make_statements):
    made = make_statements(250)
    tdb.state.stop_after_calls = 1  # answers the first batch of 100, then goes away
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        first = run()
        assert not tdb.running
        assert (first.accepted, first.stopped, first.pending) == (100, Kind.UNAVAILABLE, 150)
        assert "refused" in first.error.lower()
        tdb.start()  # back, on the same port, with what it stored
        traveller.shift(dt.timedelta(seconds=61))
        second = run()
    assert (second.accepted, second.pending, second.stopped) == (150, 0, None)
    assert set(statuses().values()) == {Status.ACCEPTED}
    assert tdb.state.created == {s.puid: 1 for s in made}
    assert all(len(call) <= 100 for call in tdb.state.calls)


def test_a_refused_token_stops_the_run_and_keeps_every_statement_pending(
    tdb, make_statements, settings
):
    settings.TRANSPARENCY_DB_TOKEN = "X|not-the-token"
    make_statements(3)
    summary = run()
    assert (summary.stopped, summary.pending, summary.batches) == (Kind.UNAUTHORISED, 3, 1)
    row = StatementSubmission.objects.first()
    assert (row.status, row.attempts, row.last_status_code) == (Status.PENDING, 0, 401)
    assert not tdb.state.stored


def test_submission_is_off_without_a_url(make_statements, settings):
    settings.TRANSPARENCY_DB_URL = ""
    make_statements(2)
    summary = run()
    assert not summary.enabled
    assert not StatementSubmission.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="integrations.statements").exists()


def test_every_run_and_every_batch_is_audited_with_counts_only(tdb, make_statements):
    make_statements(5, bad=(1,))
    run()
    batches = AuditEntry.objects.filter(action="integrations.statements.batch_submitted")
    assert [e.after["answer"] for e in batches.order_by("id")] == ["invalid", "created"]
    (summary,) = AuditEntry.objects.filter(action="integrations.statements.submission_run")
    assert summary.actor_id == ACTOR.name
    assert summary.after == {
        "enrolled": 5,
        "batches": 2,
        "sent": 9,
        "accepted": 4,
        "already_accepted": 0,
        "rejected": 1,
        "postponed": 0,
        "pending": 0,
        "stopped": "",
    }


def test_a_second_worker_does_not_claim_statements_another_holds(tdb, make_statements):
    make_statements(150)
    statement_submission.enrol()
    lease = dt.timedelta(minutes=1)
    first = statement_submission.claim(size=100, lease_for=lease)
    second = statement_submission.claim(size=100, lease_for=lease)
    assert first is not None
    assert second is not None
    assert (len(first.rows), len(second.rows)) == (100, 50)
    assert not {r[0] for r in first.rows} & {r[0] for r in second.rows}
    assert statement_submission.claim(size=100, lease_for=lease) is None


def test_a_worker_whose_lease_lapsed_writes_nothing(tdb, make_statements):
    make_statements(1)
    statement_submission.enrol()
    stale = statement_submission.claim(size=100, lease_for=dt.timedelta(seconds=-1))
    assert stale is not None
    fresh = run()  # another worker takes the lapsed claim and finishes it
    assert fresh.accepted == 1
    result = statement_submission.settle(stale, Answer(Kind.UNAVAILABLE, error="late"), actor=ACTOR)
    assert result.postponed == 0
    assert StatementSubmission.objects.get().status == Status.ACCEPTED
