"""The bench's own plumbing: a figure it prints must not be short because of how it counts."""

from __future__ import annotations

from collections import deque

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from bench.harness import captured_queries
from safety_portal.core.api.models import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def query_log(settings):
    """The connection's query log with DEBUG on, as `make bench` runs; put back afterwards, so
    that a log this test filled never makes a later test's query count read 0."""
    settings.DEBUG = True
    db = connections[DEFAULT_DB_ALIAS]
    kept_log, kept_limit = db.queries_log, db.queries_limit
    db.queries_log = deque(maxlen=kept_limit)
    yield db
    db.queries_log, db.queries_limit = kept_log, kept_limit


def test_queries_are_counted_when_earlier_work_filled_the_query_log(query_log):
    query_log.queries_log.extend(
        {"sql": "SELECT 1", "time": "0.000"} for _ in range(query_log.queries_limit)
    )
    with captured_queries() as captured:
        ApiClient.objects.filter(pk=0).exists()
        ApiClient.objects.filter(pk=1).exists()
    assert len(captured.captured_queries) == 2


def test_a_capture_that_overflows_the_log_is_an_error_not_a_short_count(query_log):
    query_log.queries_log, query_log.queries_limit = deque(maxlen=3), 3  # keeps three queries

    def four_queries() -> None:
        with captured_queries():
            for pk in range(4):
                ApiClient.objects.filter(pk=pk).exists()

    with pytest.raises(RuntimeError, match="query log"):
        four_queries()
