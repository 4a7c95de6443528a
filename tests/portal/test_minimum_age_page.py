"""The minimum-age counts page (POLICY.md §7.3): the regulator's figures per country and period,
with a chart, and the same CSV the command writes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from accounts import minimum_age_sweep as sweeps
from accounts.models import User
from accounts.roles import Role
from safety_portal.core.audit.actors import SystemActor
from tests.dates import born
from tests.factories.accounts import AppUserFactory

IN_FORCE = dt.date(2025, 12, 10)


@pytest.fixture
def swept(db: None) -> None:
    """Australia's rule took effect: three accounts found; one later verified older (a staff
    reinstatement stands in for it here), two still under review."""
    with time_machine.travel(dt.datetime(2025, 12, 1, 12, tzinfo=dt.UTC), tick=False):
        teens = [AppUserFactory(birthdate=born(14, on=IN_FORCE), country="AU") for _ in range(3)]
        AppUserFactory(birthdate=born(14, on=IN_FORCE), country="GB")
    with time_machine.travel(dt.datetime(2025, 12, 10, 12, tzinfo=dt.UTC), tick=False):
        sweeps.run_due(actor=SystemActor("tests"))
        User.objects.change_status(
            teens[0], "active", actor=SystemActor("tests"), reason="appeal upheld"
        )


def test_an_auditor_sees_the_counts_per_country_with_a_chart(swept: None, as_role) -> None:
    client = as_role(Role.AUDITOR)
    page = client.get(reverse("portal:minimum_age"), {"start": "2025-12-01", "end": "2025-12-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert "by country and outcome" in html
    [row] = page.context["rows"]
    assert (row["country"], row["found"], row["notified"], row["reinstated"]) == ("AU", 3, 3, 1)


def test_the_csv_download_is_the_file_the_command_writes(swept: None, as_role, tmp_path) -> None:
    period = {"start": "2025-12-01", "end": "2025-12-31"}
    download = as_role(Role.AUDITOR).get(reverse("portal:minimum_age_csv"), period)
    assert download.status_code == 200
    assert "minimum-age-counts-2025-12-01-2025-12-31.csv" in download["Content-Disposition"]
    target = tmp_path / "counts.csv"
    call_command(
        "minimum_age_sweep", "--counts", "--from", period["start"], "--to", period["end"],
        "--csv", str(target), stdout=io.StringIO(),
    )  # fmt: skip
    assert download.content == target.read_bytes()
    [row] = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert row == {
        "country": "AU", "found": "3", "notified": "3", "verified_older": "0",
        "deactivated": "0", "appealed": "0", "reinstated": "1",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field"),
    [({"country": "ZZ"}, "country"), ({"start": "2026-02-01", "end": "2026-01-01"}, "end")],
)
def test_a_bad_period_or_country_is_a_form_error_and_no_download(
    day: object, as_role, query: dict[str, str], field: str
) -> None:
    client = as_role(Role.AUDITOR)
    page = client.get(reverse("portal:minimum_age"), query)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    download = client.get(reverse("portal:minimum_age_csv"), query)
    assert download.status_code == 400
    assert "try again" in download.content.decode()
