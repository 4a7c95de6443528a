"""The case workspace's evidence in Chromium at 1400 px (issue 15.1): a moderator reads a minor's
grooming report with who is involved, the contact-risk picture and the history, opens the
conversation (both sides, audited), and nothing on the page is wider than the window.

`PORTAL_SCREENSHOTS=/some/dir` keeps the screenshots; without it they go to a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from accounts.roles import Role
from moderation.models import Flag
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from tests.factories.messaging import block, person
from tests.factories.moderation import decided, report_message

from .evidence_story import grooming, refused
from .scenario import ACTOR, build_day
from .test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1400, "height": 1000}


def test_a_moderator_reads_the_evidence_of_a_grooming_report_at_1400_px(
    page: Page, live_server, settings, tmp_path: Path
) -> None:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:evidence:{tmp_path.name}"
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    day = build_day()
    moderator = day.staff[Role.MODERATOR]
    story = grooming(messages=8)
    for age in (15, 13):
        refused(story.subject, person(age))
    with time_machine.travel(clock.now() - dt.timedelta(days=12), tick=False):
        block(person(17), story.subject)
    earlier = report_message(story.lines[0], reporter=story.teen).case
    decided(earlier, moderator, "warn", ground="tc_harassment")
    Flag.objects.raise_signal(
        user_id=story.subject.pk, kind="contact_risk", signal={"source": "test"}, actor=ACTOR
    )

    page.set_viewport_size(WIDE)
    sign_in(page, live_server.url, moderator.username, moderator)
    page.goto(f"{live_server.url}/cases/{story.case.pk}/")
    people = page.get_by_test_id("evidence-people")
    expect(people).to_contain_text(story.teen.username)
    expect(people).to_contain_text("16\u201317")
    expect(people).to_contain_text("Ireland")
    expect(page.get_by_test_id("risk-7d")).to_contain_text("dm_recipient_under_16 \u00d7 3")
    expect(page.get_by_test_id("risk-30d")).to_be_visible()
    expect(page.get_by_test_id("evidence-prior-decisions")).to_contain_text("Warn")
    expect(page.get_by_test_id("evidence-flags")).to_contain_text("Contact risk")
    assert _overflow(page) <= 0, "the case page is wider than the window"
    page.screenshot(path=str(shots / "case-evidence-1400.png"), full_page=True)

    page.get_by_test_id("open-thread").click()
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text("line-00 of the chat")  # the subject's side
    expect(thread).to_contain_text("line-07 of the chat")  # the minor's side
    expect(thread).not_to_contain_text("unrelated-adult-chat-5521")
    assert _overflow(page) <= 0, "the opened conversation is wider than the window"
    page.screenshot(path=str(shots / "case-evidence-thread-1400.png"), full_page=True)
    read = AuditEntry.objects.get(action="messaging.messages.read_by_staff")
    assert read.after["case"] == str(story.case.pk)


def _overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
