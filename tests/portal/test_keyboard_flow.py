"""Issue 15.2, "Done when": the demo's grooming case worked end to end with the keyboard only, in
Chromium, and a decision form that is pressed twice decides once (D37).

The demo moderator signs in (typing into the sign-in form is set-up, not case work), opens the
queue, and from there on only presses keys: j to reach the grooming case, Enter to open it, c to
claim, t to read the reported conversation (both sides), d to reach the decision form, the
form's own keys to fill it, Esc to leave a field, s to decide. The audit log then holds the claim,
the read (with the case as its reason) and the decision.

`PORTAL_SCREENSHOTS=/some/dir` keeps the screenshots; without it they go to /tmp/keyboard-flow.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import Restriction, User
from accounts.roles import Role
from moderation.models import Decision, Report
from safety_portal.core.audit.models import AuditEntry
from safety_portal.rules.sor_vocabulary import Category
from tests.moderation.test_demo import seed_everything

from .scenario import PASSWORD, Day, build_day, current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1400, "height": 1000}


@pytest.fixture
def shots() -> Path:
    target = Path(os.environ.get("PORTAL_SCREENSHOTS") or "/tmp/keyboard-flow")  # noqa: S108
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def audited(settings, tmp_path: Path) -> None:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:keyboard:{tmp_path.name}"


def sign_in(page: Page, base: str, user: User, password: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(current_code(user))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _focused_href(page: Page) -> str:
    return str(
        page.evaluate("document.activeElement && document.activeElement.getAttribute('href')")
    )


def _focused_name(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.name"))


def test_the_demo_grooming_case_is_worked_end_to_end_with_the_keyboard_only(
    page: Page, live_server, audited: None, shots: Path
) -> None:
    seed_everything()
    case = Report.objects.get(evidence__demo="grooming").case
    adult, teen = case.subject_user, Report.objects.get(evidence__demo="grooming").reporter
    moderator = User.objects.get(username="moderator")
    csp: list[str] = []
    page.on(
        "console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.set_viewport_size(WIDE)
    sign_in(page, live_server.url, moderator, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/cases/")

    # The queue: j walks down the cases, each focused link is the selection; Enter opens it.
    links = page.locator("table[data-shortcut-rows] tbody tr a[href]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    target = f"/cases/{case.pk}/"
    assert target in hrefs, "the grooming case is on the queue's first page"
    page.keyboard.press("j")
    assert _focused_href(page) == hrefs[0]
    page.keyboard.press("n")  # n is j's other name
    assert _focused_href(page) == hrefs[1]
    page.keyboard.press("k")
    assert _focused_href(page) == hrefs[0]
    for _ in range(hrefs.index(target)):
        page.keyboard.press("j")
    assert _focused_href(page) == target
    page.screenshot(path=str(shots / "queue-selected.png"), full_page=False)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))

    # ? shows the help: a modal dialog, focus inside it and kept there, Esc closes it.
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Claim the case")
    expect(help_dialog).to_contain_text("Open the reported conversation")
    page.screenshot(path=str(shots / "shortcuts-help.png"))
    for _ in range(3):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("c")  # keys of the page do nothing while the help is open
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    for chord in ("Control+c", "Alt+c", "Meta+c", "Shift+C"):  # never with a modifier
        page.keyboard.press(chord)
    page.wait_for_timeout(300)
    case.refresh_from_db()
    assert case.claimed_by_id is None, "a key pressed in the help or with a modifier claimed"

    # c claims, t opens the conversation: the adult's and the teenager's messages, both sides.
    page.keyboard.press("c")
    expect(page.get_by_text("You hold this case")).to_be_visible()
    expect(page.get_by_test_id("evidence-contact-risk")).to_be_visible()
    expect(page.get_by_test_id("risk-7d")).to_be_visible()
    page.keyboard.press("t")
    thread = page.get_by_test_id("thread")
    expect(thread).to_be_visible()
    expect(thread.locator(".msg.subject").first).to_contain_text(adult.username)
    expect(thread.locator(".msg.other").first).to_contain_text(teen.username)
    expect(thread.locator(".msg.reported")).to_contain_text("another app")
    expect(page.get_by_test_id("evidence-contact-risk")).to_be_visible()

    # d reaches the decision form, which starts from the case: its category and the ground a
    # protection-of-minors case cites.
    page.keyboard.press("d")
    assert _focused_name(page) == "decision_type"
    form = page.get_by_test_id("decision-form")
    expect(form.get_by_label("Policy ground")).to_have_value("tc_minor_safety")
    expect(form.get_by_label("Statement category")).to_have_value(Category.PROTECTION_OF_MINORS)
    page.keyboard.type("Restrict")  # a closed select's type-ahead: "Restrict a feature"
    expect(form.get_by_label("Decision")).to_have_value("restrict_feature")
    page.keyboard.press("Tab")
    assert _focused_name(page) == "days"
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    assert _focused_name(page) == "feature"
    page.keyboard.type("direct")
    expect(form.get_by_label("Feature")).to_have_value("direct_messages")
    page.keyboard.press("Tab")  # the ground, pre-filled
    page.keyboard.press("Tab")  # the category, pre-filled
    page.keyboard.press("Tab")
    assert _focused_name(page) == "explanation"
    page.keyboard.type("You asked a young person to move to another app and keep it secret.")
    page.keyboard.press("Tab")
    assert _focused_name(page) == "facts"
    page.keyboard.type(
        "Messages from an adult asked a 16-17-year-old to move to another app and keep the "
        "contact secret; warned for the same conduct before; refused contact with a younger teen."
    )
    page.keyboard.press("s")  # typed into the field: no shortcut while typing
    assert _focused_name(page) == "facts"
    expect(form.get_by_label("Facts relied on")).to_have_value(re.compile(r"teen\.s$"))
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")  # leave the field; the keys work again
    page.screenshot(path=str(shots / "decision-by-keyboard.png"), full_page=True)
    assert not Decision.objects.filter(case=case).exists()
    page.keyboard.press("s")

    expect(page.get_by_test_id("case-status")).to_have_text(re.compile("Closed"))
    expect(page.get_by_text("Decided: Restrict feature")).to_be_visible()
    page.screenshot(path=str(shots / "decided-by-keyboard.png"), full_page=True)

    [decision] = Decision.objects.filter(case=case)
    assert (decision.type, decision.feature, decision.decided_by) == (
        "restrict_feature",
        "direct_messages",
        moderator,
    )
    assert (decision.ends_at - decision.starts_at).days == 30
    assert Restriction.objects.filter(
        user=adult, kind="feature", feature="direct_messages", ends_at=decision.ends_at
    ).exists()
    by_moderator = AuditEntry.objects.filter(actor_id=str(moderator.pk))
    assert by_moderator.filter(action="moderation.case.claimed", target_id=str(case.pk)).exists()
    read = by_moderator.get(action="messaging.messages.read_by_staff")
    assert read.after["case"] == str(case.pk)
    taken = by_moderator.get(action="moderation.decision.taken", target_id=str(decision.pk))
    assert taken.after["type"] == "restrict_feature"
    assert taken.after["feature"] == "direct_messages"
    assert taken.after["case"] == case.pk
    assert taken.id > read.id, "the conversation was read before the decision"
    assert csp == [], "the shortcuts run under the portal's Content-Security-Policy"


# --- a decision pressed twice decides once ----------------------------------------------------


def _fill_suspension(page: Page) -> None:
    form = page.get_by_test_id("decision-form")
    form.get_by_label("Decision").select_option("suspend")
    form.get_by_label("Duration (days)").fill("7")
    form.get_by_label("Explanation to the user").fill("You threatened someone.")
    form.get_by_label("Facts relied on").fill("A direct message threatened the recipient.")


def _decide_posts(page: Page) -> list[str]:
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.url) if r.method == "POST" and r.url.endswith("/decide/") else None
        ),
    )
    return posts


def _press_decide_twice(page: Page, how: str) -> None:
    """A double click on "Decide and close", or Enter pressed twice on it; then the closed case."""
    decide = page.get_by_test_id("decide")
    if how == "double-click":
        decide.dblclick()
    else:
        decide.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("case-status")).to_have_text(re.compile("Closed"))


@pytest.mark.parametrize("how", ["double-click", "enter-twice"])
def test_pressing_decide_twice_decides_once_with_the_script(
    page: Page, live_server, audited: None, how: str
) -> None:
    day: Day = build_day()
    moderator = day.staff[Role.MODERATOR]
    sign_in(page, live_server.url, moderator, PASSWORD)
    page.goto(f"{live_server.url}/cases/{day.message_case.pk}/")
    page.keyboard.press("c")
    expect(page.get_by_text("You hold this case")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})  # the help fits a phone's width too
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Decide and close")
    box = help_dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    page.screenshot(path="/tmp/keyboard-flow/shortcuts-help-390.png")  # noqa: S108
    page.keyboard.press("Escape")
    page.set_viewport_size(WIDE)
    _fill_suspension(page)
    posts = _decide_posts(page)
    _press_decide_twice(page, how)
    assert posts == [f"{live_server.url}/cases/{day.message_case.pk}/decide/"]
    assert Decision.objects.filter(case=day.message_case).count() == 1


@pytest.mark.parametrize("how", ["double-click", "enter-twice"])
def test_pressing_decide_twice_decides_once_without_the_script(
    browser: Browser, live_server, audited: None, how: str
) -> None:
    """Without JavaScript nothing on the page stops a second send: the server does. Chromium
    itself may fold a double click into one request, so the same form is also sent again from a
    second tab opened before the decision, which reaches the server for certain."""
    day: Day = build_day()
    moderator = day.staff[Role.MODERATOR]
    url = f"{live_server.url}/cases/{day.message_case.pk}/"
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, moderator, PASSWORD)
        page.goto(url)
        page.get_by_test_id("claim").click()
        expect(page.get_by_text("You hold this case")).to_be_visible()
        stale = context.new_page()
        stale.goto(url)
        for each in (page, stale):
            _fill_suspension(each)
        sent = _decide_posts(page)
        _press_decide_twice(page, how)
        assert 1 <= len(sent) <= 2

        again = _decide_posts(stale)
        stale.get_by_test_id("decide").click()
        expect(stale.get_by_test_id("case-status")).to_have_text(re.compile("Closed"))
        expect(stale.get_by_text("This submission changed nothing.")).to_be_visible()
        assert len(again) == 1
        assert Decision.objects.filter(case=day.message_case).count() == 1
        assert AuditEntry.objects.filter(action="moderation.decision.taken").count() == 1
    finally:
        context.close()
