"""The portal shows each rejected statement's puid and the database's error (issue 12.4)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from safety_portal.core.audit.actors import SystemActor
from safety_portal.integrations import statement_submission
from tests.portal.conftest import sign_in
from tests.portal.scenario import staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_without_manifest(settings: object) -> None:
    """Tests run with DEBUG off but without `collectstatic`: serve names as they are."""
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_an_auditor_sees_rejected_statements_with_the_servers_error(tdb, make_statements):
    made = make_statements(3, bad=(1,))
    statement_submission.run(actor=SystemActor("test"))
    page = sign_in(Client(), staff(Role.AUDITOR, "ada_auditor")).get(
        reverse("portal:statement_submissions")
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert made[1].puid in text
    assert "decision_ground: The selected decision ground is invalid." in text
    assert made[0].puid not in text  # accepted ones are counted, not listed
    assert "Accepted 2" in text
    assert "Rejected 1" in text


def test_a_moderator_may_not_see_the_submission_page(tdb):
    client = sign_in(Client(raise_request_exception=False), staff(Role.MODERATOR, "mo_moderator"))
    assert client.get(reverse("portal:statement_submissions")).status_code == 403
