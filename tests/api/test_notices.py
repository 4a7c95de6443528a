"""Notices delivered (issue 12.2): every notice the portal writes for an app user, from both notice
tables, through GET users/{id}/notices/ and the notice.created webhook; the app reports delivered
and read; nothing about a reporter reaches the reported person."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moderation import services
from moderation.models import Appeal, Notice
from safety_portal.core import clock
from safety_portal.core.api.models import WebhookDelivery, WebhookEndpoint
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.outbox.models import UserNotice
from safety_portal.integrations.notice_events import announce_pending
from tests.factories.accounts import StaffFactory
from tests.factories.messaging import person
from tests.factories.moderation import decided, report_user

from .conftest import ADMIN

pytestmark = pytest.mark.django_db


def notices_url(user) -> str:
    return f"/api/v1/users/{user.pk}/notices/"


@pytest.fixture
def app(make_caller):
    return make_caller(["notices:read", "notices:write", "appeals:write"], name="the app")


def tier_change(user) -> UserNotice:
    """What the birthday job writes when a user turns 16 (accounts.transitions)."""
    return UserNotice.objects.create(
        user=user,
        kind=UserNotice.Kind.TIER_CHANGE,
        key="tier-change:16:2026-12-06",
        tier="older_teen",
        subject="You are 16: you can now turn on direct messages with friends",
        body="Happy birthday! ...",
        created_at=clock.now(),
    )


def test_a_users_notices_from_both_tables_come_newest_first_with_stable_ids_and_codes(
    app, moderator
) -> None:
    reporter, subject = person(35), person(16)
    decided(report_user(subject, reporter=reporter).case, moderator, "warn")
    account = tier_change(subject)
    decided(report_user(person(30), reporter=reporter).case, moderator, "no_violation")

    page = app.get(notices_url(subject)).json()["results"]
    decision = Notice.objects.get(recipient=subject, kind="decision")
    assert [(n["id"], n["kind"], n["code"], n["state"]) for n in page] == [
        (f"account-{account.pk}", "tier_change", "tier_change", "written"),
        (f"moderation-{decision.pk}", "decision", decision.template, "written"),
    ]
    assert page[1]["tier"] == "older_teen"
    assert page[1]["body"] == decision.body
    codes = [n["code"] for n in app.get(notices_url(reporter)).json()["results"]]
    assert sorted(codes) == ["reporter_outcome.action_taken", "reporter_outcome.no_violation"]


def test_the_reported_person_learns_nothing_about_who_reported_them(app, moderator) -> None:
    reporter, subject = person(35), person(30)
    decided(report_user(subject, reporter=reporter).case, moderator, "suspend", days=3)
    [notice] = app.get(notices_url(subject)).json()["results"]
    text = " ".join(str(v) for v in notice.values())
    assert reporter.username not in text
    assert str(reporter.pk) not in notice["id"]
    assert "reporter" not in notice["code"]


def test_staff_alerts_are_not_a_users_notices_and_staff_have_no_feed(app, moderator) -> None:
    staff = StaffFactory(roles=["Senior moderator"])
    Notice.objects.create(
        recipient=staff,
        kind=Notice.Kind.CASE_OVERDUE,
        template="case_overdue",
        subject="Case overdue",
        body="b",
        created_at=clock.now(),
    )
    assert app.get(notices_url(staff)).status_code == 404
    assert app.get("/api/v1/users/999999/notices/").status_code == 404


def test_the_app_reports_delivered_then_read_and_a_retry_or_late_report_changes_nothing(
    app, moderator
) -> None:
    subject = person(30)
    account = tier_change(subject)
    url = f"{notices_url(subject)}account-{account.pk}/"
    delivered = app.patch(url, {"state": "delivered"}).json()
    assert (delivered["state"], delivered["read_at"]) == ("delivered", None)
    read = app.patch(url, {"state": "read"}).json()
    assert read["state"] == "read"
    assert read["delivered_at"] == delivered["delivered_at"]
    assert app.patch(url, {"state": "delivered"}).json() == read  # late: nothing moves back
    assert app.patch(url, {"state": "read"}).json() == read  # retried: the first time stays
    entries = AuditEntry.objects.filter(action="notices.state.changed")
    assert entries.count() == 2
    assert {e.actor_label for e in entries} == {"the app"}


def test_bad_notice_state_reports_are_refused_without_changing_anything(app) -> None:
    subject, other = person(30), person(31)
    account = tier_change(subject)
    mine = f"{notices_url(subject)}account-{account.pk}/"
    assert app.patch(mine, {"state": "seen"}).json()["fields"] == {
        "state": ['"seen" is not a valid choice.']
    }
    assert (
        app.patch(f"{notices_url(other)}account-{account.pk}/", {"state": "read"}).status_code
        == 404
    )
    assert app.patch(f"{notices_url(subject)}account-0x1/", {"state": "read"}).status_code == 404
    assert UserNotice.objects.get(pk=account.pk).delivered_at is None


def test_listing_notices_takes_a_bounded_number_of_queries(app, moderator) -> None:
    subject = person(30)
    for n in range(12):
        UserNotice.objects.create(
            user=subject, kind="policy_change", key=f"k{n}", tier="adult", subject="s",
            body="b", created_at=clock.now(),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        page = app.get(notices_url(subject), {"page_size": 5}).json()
    assert len(page["results"]) == 5
    assert page["next"]
    assert len([q for q in queries if "notice" in q["sql"]]) == 1


# ---- notice.created --------------------------------------------------------------------------


@pytest.fixture
def listener(make_caller):
    client = make_caller("notices:read", name="app-push").client
    endpoint, _secret = WebhookEndpoint.objects.register(
        client=client, url="http://127.0.0.1:9/hook", events=["notice.created"], actor=ADMIN
    )
    return endpoint


def test_every_new_notice_is_announced_once_with_ids_and_codes_but_no_text(
    app, moderator, listener, make_caller
) -> None:
    blind = make_caller("cases:read", name="no-notices").client  # lacks notices:read
    WebhookEndpoint.objects.register(
        client=blind, url="http://127.0.0.1:9/other", events=["notice.created"], actor=ADMIN
    )
    subject = person(30)
    decided(report_user(subject, reporter=person(35)).case, moderator, "warn")
    account = tier_change(subject)

    assert announce_pending() == 3  # the decision, the reporter's outcome, the tier change
    assert announce_pending() == 0
    deliveries = WebhookDelivery.objects.filter(event_type="notice.created")
    assert {d.endpoint_id for d in deliveries} == {listener.pk}
    payloads = {d.payload["notice_id"]: d.payload for d in deliveries}
    assert payloads[f"account-{account.pk}"] == {
        "notice_id": f"account-{account.pk}",
        "user_id": subject.pk,
        "kind": "tier_change",
        "code": "tier_change",
        "tier": "older_teen",
        "created_at": account.created_at.isoformat(),
    }
    assert all("body" not in p and "subject" not in p for p in payloads.values())


def test_an_appeal_filed_through_the_api_and_decided_reaches_the_user_as_a_notice_and_event(
    app, moderator, senior, listener
) -> None:
    subject = person(30)
    decision = decided(report_user(subject, reporter=person(35)).case, moderator, "suspend", days=3)
    filed = app.post(
        "/api/v1/appeals/",
        {"decision": decision.pk, "appellant": subject.pk, "statement": "A quote from a film."},
        HTTP_IDEMPOTENCY_KEY="a-1",
    ).json()
    announce_pending()
    services.decide_appeal(
        Appeal.objects.get(pk=filed["id"]), actor=senior, overturn=True, note="A film quote."
    )
    announce_pending()
    newest = app.get(notices_url(subject)).json()["results"][0]
    assert (newest["kind"], newest["code"]) == ("appeal_decided", "appeal_decided.overturned")
    [event] = WebhookDelivery.objects.filter(payload__notice_id=newest["id"])
    assert event.payload["code"] == "appeal_decided.overturned"
