"""Reading the Transparency Database's answers (issue 12.4), on a real socket each time."""

from __future__ import annotations

import datetime as dt

import pytest

from safety_portal.integrations import transparency_db
from safety_portal.integrations.transparency_db import Endpoint, Kind

from .tdb_server import TOKEN, Trouble

STATEMENT = {
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "decision_facts": "Scam links.",
    "automated_detection": "No",
    "puid": "sp-decision-client-1",
}


def test_a_created_call_gives_each_puid_its_uuid(tdb):
    answer = transparency_db.post_statements(Endpoint.configured(), [STATEMENT])
    assert (answer.kind, answer.status_code) == (Kind.CREATED, 201)
    assert answer.uuids == {"sp-decision-client-1": tdb.state.stored["sp-decision-client-1"]}


def test_the_bearer_token_is_sent_and_a_wrong_one_is_unauthorised(tdb):
    wrong = Endpoint(url=tdb.base_url + transparency_db.PATH, token="X|nope", timeout=2)
    answer = transparency_db.post_statements(wrong, [STATEMENT])
    assert (answer.kind, answer.status_code) == (Kind.UNAUTHORISED, 401)
    assert TOKEN not in answer.error


def test_a_wrong_path_is_a_refusal_not_a_retryable_outage(tdb):
    lost = Endpoint(url=tdb.base_url + "/api/v9/nothing", token=TOKEN, timeout=2)
    answer = transparency_db.post_statements(lost, [STATEMENT])
    assert (answer.kind, answer.status_code) == (Kind.REFUSED, 404)


def test_retry_after_as_an_http_date_is_read_as_a_wait(tdb):
    tdb.state.troubles = [
        Trouble(status=429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    ]
    answer = transparency_db.post_statements(Endpoint.configured(), [STATEMENT])
    assert answer.kind is Kind.RATE_LIMITED
    assert answer.retry_after is not None
    assert answer.retry_after > dt.timedelta(days=365)


def test_more_than_100_statements_are_never_sent(tdb):
    many = [dict(STATEMENT, puid=f"sp-{i}") for i in range(101)]
    with pytest.raises(ValueError, match="1 to 100"):
        transparency_db.post_statements(Endpoint.configured(), many)
    assert tdb.state.calls == []
