"""In a real browser (Debian's Chromium through Playwright) against a live server (issue 5).

The scenario of the issue: a moderator signs in with a TOTP code, claims the top case, opens the
thread, suspends the account for 7 days with a reason, and sees the case closed and the audit
entry; a triage user cannot see the decision form; an auditor verifies the chain. Every page is
also checked for Content-Security-Policy violations reported by the browser itself.

`PORTAL_SCREENSHOTS=docs/screenshots pytest -m browser tests/portal/test_browser.py` refreshes the
README's screenshots; without it they go to a temporary directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Restriction
from accounts.roles import Role
from moderation.models import Case, Decision
from safety_portal.core.audit import chainer
from safety_portal.core.audit.models import AuditEntry

from .scenario import PASSWORD, Day, build_day, current_code, escalate_grooming_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def browser_day(live_server, settings, tmp_path) -> Day:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:browser:{tmp_path.name}"
    return build_day()


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def sign_in(page: Page, base: str, username: str, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(current_code(user))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_moderator_claims_reads_and_suspends_for_seven_days(
    page: Page, live_server, browser_day: Day, csp_violations: list[str], shots: Path
) -> None:
    day = browser_day
    moderator = day.staff[Role.MODERATOR]
    top = Case.objects.for_queue("all", moderator=moderator).first()
    sign_in(page, live_server.url, moderator.username, moderator)
    page.get_by_test_id("claim-next").click()
    expect(page).to_have_url(re.compile(rf"/cases/{top.pk}/$"))
    expect(page.get_by_text("You hold this case")).to_be_visible()

    # The top case is the threat in a direct thread: open it (the read is audited).
    assert top.pk == day.message_case.pk
    page.get_by_test_id("open-thread").click()
    expect(page.get_by_test_id("thread")).to_contain_text("I know where you work")

    form = page.get_by_test_id("decision-form")
    form.get_by_label("Decision").select_option("suspend")
    form.get_by_label("Duration (days)").fill("7")
    form.get_by_label("Policy ground").select_option("tc_harassment")
    form.get_by_label("Explanation to the user").fill(
        "You threatened someone who would not share their address."
    )
    form.get_by_label("Facts relied on").fill(
        "A direct message threatened the recipient after they refused to share an address."
    )
    page.screenshot(path=str(shots / "decision-form.png"), full_page=True)
    form.get_by_test_id("decide").click()

    expect(page.get_by_test_id("case-status")).to_have_text(re.compile("Closed"))
    expect(page.get_by_text("Decided: Suspend")).to_be_visible()
    expect(page.get_by_text("Decision taken")).to_be_visible()  # the audit entry, on the timeline
    decision = Decision.objects.get(case=day.message_case)
    assert decision.type == "suspend"
    assert (decision.ends_at - decision.starts_at).days == 7
    assert Restriction.objects.filter(user=day.sender, kind="suspension").exists()
    assert AuditEntry.objects.filter(
        action="moderation.decision.taken", actor_id=str(moderator.pk)
    ).exists()
    assert AuditEntry.objects.filter(action="messaging.messages.read_by_staff").exists()
    page.screenshot(path=str(shots / "case-closed.png"), full_page=True)
    assert csp_violations == []


def test_a_triage_user_cannot_see_the_decision_form(
    page: Page, live_server, browser_day: Day, csp_violations: list[str]
) -> None:
    triage = browser_day.staff[Role.TRIAGE]
    sign_in(page, live_server.url, triage.username, triage)
    page.get_by_test_id("claim-next").click()
    expect(page.get_by_text("You hold this case")).to_be_visible()
    expect(page.get_by_test_id("decision-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Escalate to seniors")).to_be_visible()
    assert csp_violations == []


def test_an_auditor_verifies_the_chain(
    page: Page, live_server, browser_day: Day, csp_violations: list[str], shots: Path
) -> None:
    auditor = browser_day.staff[Role.AUDITOR]
    chainer.link_committed()  # as the beat task does every few seconds (D23)
    sign_in(page, live_server.url, auditor.username, auditor)
    page.get_by_role("link", name="Audit log").click()
    page.get_by_test_id("verify-chain").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("Chain intact")
    page.screenshot(path=str(shots / "chain-verified.png"))
    assert csp_violations == []


def test_an_appeal_filed_through_the_api_is_decided_in_the_portal_and_reaches_the_user(
    page: Page, live_server, browser_day: Day, csp_violations: list[str], shots: Path
) -> None:
    """Issue 12: the app files the appeal (API), a senior decides it in the browser, and the
    user's notices endpoint and the notice.created webhook carry the outcome."""
    from rest_framework.test import APIClient

    from moderation import services
    from safety_portal.core.api.models import ApiClient, WebhookDelivery, WebhookEndpoint
    from safety_portal.core.audit.actors import SystemActor
    from safety_portal.integrations.notice_events import announce_pending

    day = browser_day
    admin = SystemActor("tests.browser")
    client, token = ApiClient.objects.create_client(
        name="the app", scopes=["appeals:write", "notices:read"], actor=admin
    )
    WebhookEndpoint.objects.register(
        client=client, url="http://127.0.0.1:9/hook", events=["notice.created"], actor=admin
    )
    case = day.others[1]
    moderator = day.staff[Role.MODERATOR]
    Case.objects.claim(case, actor=moderator)
    decision = services.decide(
        case, actor=moderator, decision_type="suspend", days=3, ground="tc_scams",
        explanation="Your account posted scam links.",
        facts="The account posted the same crypto giveaway link under many videos.",
    )  # fmt: skip
    user = decision.target_user
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    filed = api.post(
        "/api/v1/appeals/",
        {"decision": decision.pk, "appellant": user.pk, "statement": "Those were my own links."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="appeal-1",
    )
    assert filed.status_code == 201, filed.content
    announce_pending()

    senior = day.staff[Role.SENIOR_MODERATOR]
    sign_in(page, live_server.url, senior.username, senior)
    page.goto(live_server.url + "/appeals/")
    page.get_by_role("link", name=f"#{filed.json()['id']}", exact=True).click()
    page.get_by_label("Overturn the decision and reverse its effects").check()
    page.get_by_label("Note").fill("The links go to the user's own charity page.")
    page.screenshot(path=str(shots / "appeal-decide.png"), full_page=True)
    page.get_by_role("button", name="Record the outcome").click()
    appeal_id = filed.json()["id"]
    expect(page.get_by_text(f"Appeal #{appeal_id} decided.")).to_be_visible()
    page.get_by_role("link", name="Decided").click()
    expect(
        page.get_by_role("row", name=re.compile(rf"^#{appeal_id} .*Overturned$"))
    ).to_be_visible()

    announce_pending()
    newest = api.get(f"/api/v1/users/{user.pk}/notices/").json()["results"][0]
    assert (newest["kind"], newest["code"]) == ("appeal_decided", "appeal_decided.overturned")
    assert "lifted" in newest["body"] or "restored" in newest["body"]
    [event] = WebhookDelivery.objects.filter(payload__notice_id=newest["id"])
    assert event.payload["code"] == "appeal_decided.overturned"
    assert not csp_violations


def test_the_child_safety_lead_works_an_escalation_in_the_browser(
    page: Page, live_server, browser_day: Day, csp_violations: list[str], shots: Path
) -> None:
    """Issue 12.6: the queue, the held account, the package link and the reported form."""
    day = browser_day
    escalation = escalate_grooming_report(day)
    lead = day.staff[Role.CHILD_SAFETY]
    sign_in(page, live_server.url, lead.username, lead)
    page.get_by_role("link", name="Child safety").click()
    page.get_by_role("link", name=f"#{escalation.pk}", exact=True).click()
    expect(page.get_by_text("Held", exact=True)).to_be_visible()
    page.screenshot(path=str(shots / "child-safety.png"), full_page=True)
    page.get_by_label("Reference").fill("CT-2026-118822")
    page.get_by_role("button", name="Mark reported").click()
    expect(page.get_by_text(f"Escalation #{escalation.pk} recorded as reported.")).to_be_visible()
    escalation.refresh_from_db()
    assert escalation.authority_reference == "CT-2026-118822"
    assert not csp_violations


def test_the_auditor_reads_the_transparency_report_in_the_browser(
    page: Page, live_server, browser_day: Day, csp_violations: list[str], shots: Path
) -> None:
    """Issue 12.5: the figures and their charts render, with the downloads offered."""
    from moderation import services

    day = browser_day
    moderator = day.staff[Role.MODERATOR]
    case = day.others[1]
    Case.objects.claim(case, actor=moderator)
    services.decide(
        case, actor=moderator, decision_type="suspend", days=3, ground="tc_scams",
        explanation="Your account posted scam links.",
        facts="The account posted the same crypto giveaway link under many videos.",
    )  # fmt: skip
    auditor = day.staff[Role.AUDITOR]
    sign_in(page, live_server.url, auditor.username, auditor)
    page.get_by_role("link", name="Transparency report").click()
    expect(page.get_by_role("heading", name="Actions by type")).to_be_visible()
    expect(page.get_by_role("link", name="Download XLSX")).to_be_visible()
    page.screenshot(path=str(shots / "transparency.png"), full_page=True)
    assert not csp_violations
