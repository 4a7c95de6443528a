"""The transparency report page (issue 12.5): charts, and the same figures as CSV and XLSX, for
auditors."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from tests.factories.messaging import person
from tests.factories.moderation import HARASSMENT, decided, report_user
from tests.moderation.test_transparency_report import at

from .conftest import sign_in
from .scenario import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    return staff(Role.MODERATOR, "mo_reports")


def test_the_auditor_sees_the_report_with_charts_and_downloads_csv_and_xlsx(moderator) -> None:
    with at(0):
        report = report_user(person(30), reporter=person(35), category=HARASSMENT)
    with at(3):
        decided(report.case, moderator, "suspend", days=3)
    auditor = sign_in(Client(), staff(Role.AUDITOR, "aud_reports"))
    period = {"start": "2026-11-03", "end": "2026-11-03"}
    page = auditor.get(reverse("portal:transparency"), period)
    assert page.status_code == 200
    assert page.context["figures"].actions_by_type == {"suspend": 1}
    assert [c.title for c in page.context["charts"]][:1] == ["Notices by category"]
    csv_lines = auditor.get(reverse("portal:transparency_csv"), period).content.decode()
    assert "actions,median_hours_to_action,3.0" in csv_lines.splitlines()
    book = load_workbook(BytesIO(auditor.get(reverse("portal:transparency_xlsx"), period).content))
    assert book.sheetnames == ["Notices", "Actions", "Appeals", "Minors", "Minimum age"]
    rows = {r[0]: r[1] for r in book["Actions"].iter_rows(min_row=3, values_only=True)}
    assert rows["By type: suspend"] == 1
    bad = auditor.get(reverse("portal:transparency"), {"start": "2026-11-05", "end": "2026-11-01"})
    assert bad.status_code == 400
    assert "end" in bad.context["form"].errors
