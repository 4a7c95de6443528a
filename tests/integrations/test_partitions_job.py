"""The daily job keeps months of partitions ahead for every partitioned table (issue 14.5)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from safety_portal.core import partitions
from safety_portal.integrations.partitions import PARTITIONED
from safety_portal.integrations.tasks import create_partitions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's; the SQLite demo keeps plain tables")


def test_the_job_prepares_the_months_ahead_for_every_table_and_is_idempotent(settings) -> None:
    settings.PARTITION_MONTHS_AHEAD = 2
    with time_machine.travel(dt.datetime(2032, 7, 14, 9, tzinfo=dt.UTC), tick=False):
        first = create_partitions.delay().get()
        again = create_partitions.delay().get()
    assert [r["table"] for r in first] == [spec.table for spec in PARTITIONED]
    for result, spec in zip(first, PARTITIONED, strict=True):
        assert result["created"] == [
            spec.partition_name(partitions.Month(2032, m)) for m in (7, 8, 9)
        ]
    assert all(r["created"] == [] and r["blocked"] == [] for r in again)


def test_the_command_lists_what_each_table_has() -> None:
    out = io.StringIO()
    call_command("create_partitions", stdout=out)
    for spec in PARTITIONED:
        assert f"{spec.table}: created" in out.getvalue()
        assert spec.default_name in out.getvalue()


def test_the_demo_writes_its_month_of_history_into_month_partitions_not_default() -> None:
    call_command("seed_demo", "--quiet-logins", stdout=io.StringIO())
    for spec in PARTITIONED:
        assert partitions.default_rows(spec) == 0, spec.table
