"""The bench's own plumbing: a figure it prints must not be short because of how it counts."""

from __future__ import annotations

from collections import deque

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from bench.harness import captured_queries
from safety_portal.core.api.models import ApiClient

pytestmark = pytest.mark.django_db


def _fill_the_query_log() -> None:
    connection.queries_log.extend(
        {"sql": "SELECT 1", "time": "0.000"} for _ in range(connection.queries_limit)
    )


def test_queries_are_counted_when_earlier_work_filled_the_query_log(settings):
    settings.DEBUG = True  # as `make bench` runs
    _fill_the_query_log()
    with captured_queries() as captured:
        ApiClient.objects.filter(pk=0).exists()
        ApiClient.objects.filter(pk=1).exists()
    assert len(captured.captured_queries) == 2


def test_a_capture_that_overflows_the_log_is_an_error_not_a_short_count(settings):
    settings.DEBUG = True
    db = connections[DEFAULT_DB_ALIAS]
    kept_log, kept_limit = db.queries_log, db.queries_limit
    db.queries_log, db.queries_limit = deque(maxlen=3), 3  # a log that keeps three queries

    def four_queries() -> None:
        with captured_queries():
            for pk in range(4):
                ApiClient.objects.filter(pk=pk).exists()

    try:
        with pytest.raises(RuntimeError, match="query log"):
            four_queries()
    finally:
        db.queries_log, db.queries_limit = kept_log, kept_limit
