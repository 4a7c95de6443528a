"""Moderator wellbeing (issue 15.3): harmful message bodies are blurred until revealed, each reveal
is audited, and the dashboard counts the moderator's own harmful cases of the day.

The day's reported thread is a threat of violence, so its bodies are blurred; a scam report on the
same thread is not. The browser tests show the blur, the reveal by one key and by one click, the
reveal without JavaScript, and `prefers-reduced-motion`.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.roles import Role
from moderation import services, wellbeing
from moderation.models import Case
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from tests.factories.moderation import SCAM, report_message

from .scenario import Day, build_day
from .test_browser import sign_in as sign_in_in_browser

REVEALED = wellbeing.REVEAL_ACTION


def _thread(case: Case) -> str:
    return reverse("portal:case_thread", args=[case.pk])


def _reveal(case: Case) -> str:
    return reverse("portal:case_reveal", args=[case.pk])


def _reveals() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=REVEALED).order_by("id"))


def _decide(case: Case, moderator) -> None:  # type: ignore[no-untyped-def]
    Case.objects.claim(case, actor=moderator)
    services.decide(
        case, actor=moderator, decision_type="warn", ground="tc_harassment",
        explanation="Your message broke our rules.", facts="A reported message broke the rules.",
    )  # fmt: skip


@pytest.mark.django_db
def test_the_bodies_of_a_violence_case_are_blurred_and_hidden_from_screen_readers(
    day: Day, as_role
) -> None:
    page = as_role(Role.MODERATOR).get(_thread(day.message_case)).content.decode()
    assert page.count('data-testid="shielded-message"') == 6
    assert page.count('aria-hidden="true" data-shielded-text>') == 6
    assert "Message text hidden: this case concerns violence." in page
    assert page.count(f'action="{_reveal(day.message_case)}"') == 6


@pytest.mark.django_db
def test_a_scam_case_on_the_same_thread_is_not_blurred(day: Day, as_role) -> None:
    scam = Case.objects.get(
        pk=report_message(
            day.thread.messages.first(), reporter=day.recipient, category=SCAM
        ).case_id
    )
    assert scam.pk != day.message_case.pk
    page = as_role(Role.MODERATOR).get(_thread(scam)).content.decode()
    assert "hey, saw your post about the match" in page
    assert 'data-testid="shielded-message"' not in page


@pytest.mark.django_db
def test_revealing_without_javascript_records_it_and_shows_that_message(day: Day, as_role) -> None:
    moderator = day.staff[Role.MODERATOR]
    client = as_role(Role.MODERATOR)
    response = client.post(_reveal(day.message_case), {"message": day.reported.pk})
    assert response.status_code == 302
    assert response["Location"] == (
        f"{_thread(day.message_case)}?revealed={day.reported.pk}#message-{day.reported.pk}"
    )
    [entry] = _reveals()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        str(moderator.pk),
        "moderation.case",
        str(day.message_case.pk),
    )
    assert entry.after == {"message_id": day.reported.pk, "category": day.message_case.category}

    page = client.get(response["Location"]).content.decode()
    shown = re.search(
        rf'<div class="message-body" id="message-{day.reported.pk}">(.*?)</div>', page
    )
    assert shown is not None
    assert "I know where you work" in shown.group(1)
    assert page.count('data-testid="shielded-message"') == 5
    # The next reveal keeps the first one shown.
    second = day.thread.messages.order_by("id").first()
    again = client.post(
        _reveal(day.message_case), {"message": second.pk, "shown": [day.reported.pk]}
    )
    assert again["Location"] == (
        f"{_thread(day.message_case)}?revealed={second.pk}&revealed={day.reported.pk}"
        f"#message-{second.pk}"
    )
    # Reading another conversation of the case (`?thread=`), the answer stays on it.
    on_thread = client.post(
        _reveal(day.message_case), {"message": second.pk, "thread": str(day.thread.pk)}
    )
    assert on_thread["Location"].startswith(
        f"{_thread(day.message_case)}?thread={day.thread.pk}&revealed={second.pk}#"
    )


@pytest.mark.django_db
def test_the_scripted_reveal_answers_json_and_is_recorded(day: Day, as_role) -> None:
    response = as_role(Role.TRIAGE).post(
        _reveal(day.message_case), {"message": day.reported.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"revealed": day.reported.pk}
    assert [e.actor_id for e in _reveals()] == [str(day.staff[Role.TRIAGE].pk)]


@pytest.mark.django_db
def test_a_message_from_another_conversation_cannot_be_revealed_under_this_case(
    day: Day, as_role
) -> None:
    minors_case, scam_case = day.others  # about rex_spam and coin_promo: no thread with sam_sends
    client = as_role(Role.MODERATOR)
    refused = client.post(
        _reveal(minors_case), {"message": day.reported.pk}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "not_in_case"
    not_blurred = client.post(
        _reveal(scam_case), {"message": day.reported.pk}, HTTP_ACCEPT="application/json"
    )
    assert not_blurred.json()["code"] == "not_shielded"
    assert _reveals() == []


@pytest.mark.django_db
def test_an_auditor_cannot_reveal(day: Day, as_role) -> None:
    response = as_role(Role.AUDITOR).post(_reveal(day.message_case), {"message": day.reported.pk})
    assert response.status_code == 403
    assert _reveals() == []


@pytest.mark.django_db
def test_the_dashboard_counts_my_harmful_cases_of_today_only(day: Day, as_role) -> None:
    moderator, senior = day.staff[Role.MODERATOR], day.staff[Role.SENIOR_MODERATOR]
    minors_case, scam_case = day.others
    with time_machine.travel(clock.now() - dt.timedelta(days=1), tick=False):
        wellbeing.reveal_message(day.message_case, message_id=day.reported.pk, actor=moderator)
    assert wellbeing.harmful_cases_today(moderator, on=clock.today()) == 0
    # Today: two messages of the violence case (one case), a minors case and a scam decided.
    for message in day.thread.messages.order_by("id")[:2]:
        wellbeing.reveal_message(day.message_case, message_id=message.pk, actor=moderator)
    _decide(minors_case, moderator)
    _decide(scam_case, moderator)
    wellbeing.reveal_message(day.message_case, message_id=day.reported.pk, actor=senior)

    assert wellbeing.harmful_cases_today(moderator, on=clock.today()) == 2
    assert wellbeing.harmful_cases_today(senior, on=clock.today()) == 1
    page = as_role(Role.MODERATOR).get("/").content.decode()
    assert re.search(r'data-testid="harmful-today">2<', page)
    assert 'data-testid="harmful-today"' not in as_role(Role.AUDITOR).get("/").content.decode()


# --- in the browser ------------------------------------------------------------------------------


@pytest.fixture
def live_day(live_server, settings, tmp_path) -> Day:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:wellbeing:{tmp_path.name}"
    return build_day()


def _blur(page: Page, message_id: int) -> str:
    return page.locator(f"#message-{message_id} .message-text").evaluate(
        "el => getComputedStyle(el).filter"
    )


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_moderator_reveals_a_message_with_one_key_and_another_with_one_click(
    page: Page, live_server, live_day: Day, motion: str
) -> None:
    day = live_day
    moderator = day.staff[Role.MODERATOR]
    page.emulate_media(reduced_motion=motion)
    sign_in_in_browser(page, live_server.url, moderator.username, moderator)
    page.goto(live_server.url + _thread(day.message_case))
    reported = page.locator(f"#message-{day.reported.pk}")
    assert _blur(page, day.reported.pk).startswith("blur(")
    expect(reported.locator(".message-text")).to_have_attribute("aria-hidden", "true")
    transition = reported.locator(".message-text").evaluate(
        "el => getComputedStyle(el).transitionDuration"
    )
    assert (transition == "0s") == (motion == "reduce")

    reported.get_by_test_id("reveal").focus()
    page.keyboard.press("Enter")
    expect(reported.locator(".message-text")).not_to_have_attribute("aria-hidden", "true")
    expect(reported.locator(".message-text")).to_be_focused()
    expect(reported.get_by_test_id("reveal")).to_have_count(0)
    expect(reported.locator(".message-text")).to_have_css("filter", "none")

    first = day.thread.messages.order_by("id").first()
    page.locator(f"#message-{first.pk}").click()
    expect(page.locator(f"#message-{first.pk} .message-text")).not_to_have_attribute(
        "aria-hidden", "true"
    )
    expect(page.locator(".message-body.is-shielded")).to_have_count(4)
    assert [e.after["message_id"] for e in _reveals()] == [day.reported.pk, first.pk]
    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("harmful-today")).to_have_text("1")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_reveal_works_without_javascript(browser, live_server, live_day: Day) -> None:  # type: ignore[no-untyped-def]
    day = live_day
    moderator = day.staff[Role.MODERATOR]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_in_browser(page, live_server.url, moderator.username, moderator)
    page.goto(live_server.url + _thread(day.message_case))
    page.locator(f"#message-{day.reported.pk}").get_by_test_id("reveal").click()
    expect(page).to_have_url(
        re.compile(rf"\?revealed={day.reported.pk}#message-{day.reported.pk}$")
    )
    expect(page.locator(f"#message-{day.reported.pk} .message-text")).to_have_text(
        "you'll regret ignoring me. I know where you work."
    )
    assert _blur(page, day.reported.pk) == "none"
    expect(page.get_by_test_id("shielded-message")).to_have_count(5)
    assert len(_reveals()) == 1
    context.close()
