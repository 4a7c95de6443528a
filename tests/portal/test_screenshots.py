"""Every main page in the browser, with a month of moderation behind it; screenshots for the README.

Each page must load with no Content-Security-Policy violation reported by Chromium and no broken
image or stylesheet. `PORTAL_SCREENSHOTS=docs/screenshots` writes the README's pictures; without it
they go to a temporary directory and the checks still run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from moderation.models import Flag

from .busy_month import build_busy_day
from .scenario import Day, staff
from .test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_day(live_server, settings, tmp_path) -> Day:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:shots:{tmp_path.name}"
    return build_busy_day()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path / "shots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def _visit(page: Page, url: str, path: Path, problems: list[str], *, full: bool = True) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    page.screenshot(path=str(path), full_page=full)
    problems.extend(f"{url}: failed to load {u}" for u in failed)


def test_every_main_page_renders_cleanly(
    page: Page, live_server, busy_day: Day, shots: Path
) -> None:
    day = busy_day
    base = live_server.url
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(base + "/")
    page.screenshot(path=str(shots / "login.png"))
    newcomer = staff(Role.TRIAGE, "new_starter", enrol=False)
    page.get_by_label("Username").fill(newcomer.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    page.screenshot(path=str(shots / "two-factor-enrolment.png"))
    page.context.clear_cookies()

    moderator = day.staff[Role.MODERATOR]
    sign_in(page, base, moderator.username, moderator)
    _visit(page, base + "/", shots / "dashboard.png", problems)
    page.set_viewport_size({"width": 390, "height": 844})
    _visit(page, base + "/", shots / "dashboard-phone.png", problems)
    page.set_viewport_size({"width": 1440, "height": 900})
    _visit(page, base + "/cases/?view=open", shots / "case-queue.png", problems)
    case = day.message_case
    page.goto(base + f"/cases/{case.pk}/")
    page.get_by_test_id("claim").click()
    page.get_by_test_id("open-thread").click()
    # A threat of violence: the bodies are blurred until shown (issue 15.3); show the reported one.
    reported = page.locator(f"#message-{day.reported.pk}")
    reported.get_by_test_id("reveal").click()
    expect(reported.locator(".message-text")).to_have_css("filter", "none")
    page.evaluate("() => window.scrollTo(0, 0)")  # the reveal scrolled to the focused message
    page.screenshot(path=str(shots / "case-workspace.png"), full_page=True)
    flag = Flag.objects.open().filter(kind="contact_risk").first()
    _visit(page, base + "/flags/", shots / "flagged-accounts.png", problems)
    _visit(page, base + f"/flags/{flag.pk}/", shots / "flag.png", problems)
    _visit(page, base + f"/users/{day.sender.pk}/", shots / "user.png", problems)
    page.context.clear_cookies()

    senior = day.staff[Role.SENIOR_MODERATOR]
    sign_in(page, base, senior.username, senior)
    _visit(page, base + "/appeals/", shots / "appeals.png", problems)
    appeal = page.locator("table.data a.primary").first
    appeal.click()
    page.screenshot(path=str(shots / "appeal.png"), full_page=True)
    _visit(page, base + "/birthdate-requests/", shots / "birthdate-requests.png", problems)
    page.locator("table.data a.primary").first.click()
    page.screenshot(path=str(shots / "birthdate-request.png"), full_page=True)
    page.context.clear_cookies()

    auditor = day.staff[Role.AUDITOR]
    sign_in(page, base, auditor.username, auditor)
    page.screenshot(path=str(shots / "dashboard-auditor.png"), full_page=True)
    page.goto(base + "/audit/")
    page.get_by_test_id("verify-chain").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("Chain intact")
    page.screenshot(path=str(shots / "audit-log.png"))
    _visit(page, base + "/statements/", shots / "statements.png", problems, full=False)
    _visit(page, base + "/minimum-age/", shots / "minimum-age.png", problems)
    page.context.clear_cookies()

    admin = day.staff[Role.ADMINISTRATOR]
    sign_in(page, base, admin.username, admin)
    _visit(
        page, base + "/admin/accounts/user/?is_staff__exact=1", shots / "admin-staff.png", problems
    )
    _visit(
        page,
        base + f"/admin/accounts/user/{day.staff[Role.TRIAGE].pk}/change/",
        shots / "admin-roles.png",
        problems,
    )
    assert problems == []
