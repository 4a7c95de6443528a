"""Every portal page holds its layout at a desktop width (1400 px) and a phone width (390 px).

Issue 15.5. Each page is loaded with a month of moderation behind it and measured in Chromium:

- the page itself never scrolls sideways (`document.documentElement.scrollWidth` is at most the
  viewport's width), at either width;
- at 1400 px no card (`.panel`, `.auth-card`) and no table container (`.table-wrap`) is wider
  inside than it is outside: a table must fit its card, not hide columns behind a scrollbar (the
  dashboard's "Cases involving minors" once cut its "Held by" column to "HELD B…");
- at 390 px a table may scroll inside its own `.table-wrap` (that is what the wrapper is for), but
  no card may spill its content out sideways.

`test_every_portal_page_is_measured` walks the portal's URL patterns, so a new page cannot be
added without being measured here (or named in NOT_PAGES with the reason it is no page).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, reverse
from playwright.sync_api import Page

from accounts.models import BirthdateChangeRequest
from accounts.roles import Role
from moderation.models import Appeal, ChildSafetyEscalation, Flag
from safety_portal import portal_urls

from .busy_month import build_busy_day
from .conftest import sign_in as session_for
from .scenario import PASSWORD, Day, staff

WIDE, NARROW = 1400, 390
SHOTS = os.environ.get("PORTAL_LAYOUT_SHOTS", "")

# Portal routes that are not pages a person looks at: form targets (POST only), downloads, and
# the enrolment page, which only staff without a second factor reach (measured in its own test).
NOT_PAGES = {
    "logout": "POST only",
    "claim_next": "POST only",
    "case_claim": "POST only",
    "case_release": "POST only",
    "case_take_over": "POST only",
    "case_escalate": "POST only",
    "case_note": "POST only",
    "case_decide": "POST only",
    "case_reveal": "POST only (the wellbeing reveal)",
    "flag_review": "POST only",
    "audit_verify": "POST only",
    "user_birthdate": "POST only",
    "child_safety_package": "a download",
    "statements_export": "a download",
    "transparency_csv": "a download",
    "transparency_xlsx": "a download",
    "minimum_age_csv": "a download",
    "otp_setup": "measured by test_the_sign_in_pages_hold_their_layout",
    "otp_verify": "measured by test_the_sign_in_pages_hold_their_layout",
    "login": "measured by test_the_sign_in_pages_hold_their_layout",
}


@dataclass(frozen=True)
class Visit:
    name: str  # the URL name in the portal's namespace
    role: Role
    path: Callable[[Day], str]


def _first_pk(model: type, **filters: object) -> int:
    return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[0]


VISITS = [
    Visit("home", Role.MODERATOR, lambda d: reverse("portal:home")),
    Visit("home", Role.SENIOR_MODERATOR, lambda d: reverse("portal:home")),
    Visit("home", Role.AUDITOR, lambda d: reverse("portal:home")),
    Visit("security", Role.MODERATOR, lambda d: reverse("portal:security")),
    Visit("cases", Role.MODERATOR, lambda d: reverse("portal:cases") + "?view=open"),
    Visit("cases", Role.MODERATOR, lambda d: reverse("portal:cases") + "?view=minors"),
    Visit("case", Role.MODERATOR, lambda d: reverse("portal:case", args=[d.message_case.pk])),
    Visit(
        "case_thread",
        Role.MODERATOR,
        lambda d: reverse("portal:case_thread", args=[d.message_case.pk]),
    ),
    Visit("case", Role.SENIOR_MODERATOR, lambda d: reverse("portal:case", args=[d.others[0].pk])),
    Visit("flags", Role.MODERATOR, lambda d: reverse("portal:flags")),
    Visit("flag", Role.MODERATOR, lambda d: reverse("portal:flag", args=[_first_pk(Flag)])),
    Visit("users", Role.MODERATOR, lambda d: reverse("portal:users")),
    Visit(
        "user_detail", Role.MODERATOR, lambda d: reverse("portal:user_detail", args=[d.sender.pk])
    ),
    Visit("appeals", Role.SENIOR_MODERATOR, lambda d: reverse("portal:appeals")),
    Visit(
        "appeal",
        Role.SENIOR_MODERATOR,
        lambda d: reverse("portal:appeal", args=[_first_pk(Appeal)]),
    ),
    Visit(
        "birthdate_requests", Role.SENIOR_MODERATOR, lambda d: reverse("portal:birthdate_requests")
    ),
    Visit(
        "birthdate_request",
        Role.SENIOR_MODERATOR,
        lambda d: reverse("portal:birthdate_request", args=[_first_pk(BirthdateChangeRequest)]),
    ),
    Visit("minimum_age", Role.SENIOR_MODERATOR, lambda d: reverse("portal:minimum_age")),
    Visit("child_safety", Role.CHILD_SAFETY, lambda d: reverse("portal:child_safety")),
    Visit(
        "child_safety_escalation",
        Role.CHILD_SAFETY,
        lambda d: reverse(
            "portal:child_safety_escalation", args=[_first_pk(ChildSafetyEscalation)]
        ),
    ),
    Visit("audit_log", Role.AUDITOR, lambda d: reverse("portal:audit_log")),
    Visit("statements", Role.AUDITOR, lambda d: reverse("portal:statements")),
    Visit("statement_submissions", Role.AUDITOR, lambda d: reverse("portal:statement_submissions")),
    Visit("transparency", Role.AUDITOR, lambda d: reverse("portal:transparency")),
]

# What overflows, measured in the page: the document, then every card and table container whose
# content is wider than its box (1 px of slack for sub-pixel rounding).
MEASURE = """(narrow) => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    found.push(`page scrolls sideways: ${root.scrollWidth}px wide in ${root.clientWidth}px`);
  }
  const name = (el) => {
    const head = el.closest(".panel, .auth-card")?.querySelector("h1, h2, h3");
    return `${el.className}${head ? ` ("${head.textContent.trim().slice(0, 40)}")` : ""}`;
  };
  const boxes = narrow ? ".panel, .auth-card" : ".panel, .auth-card, .table-wrap";
  for (const el of document.querySelectorAll(boxes)) {
    if (el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)}: content ${el.scrollWidth}px wide in ${el.clientWidth}px`);
    }
  }
  return found;
}"""


def overflows(page: Page) -> list[str]:
    """What spills sideways on the loaded page, at 1400 px and then at 390 px.

    With `PORTAL_LAYOUT_SHOTS=<dir>` each page is also saved at both widths, to look at.
    """
    found = []
    for width, height in ((WIDE, 900), (NARROW, 844)):
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width}px: {what}" for what in page.evaluate(MEASURE, width == NARROW)]
        if SHOTS:
            slug = re.sub(r"[^a-z0-9]+", "-", urlsplit(page.url).path.lower()).strip("-")
            page.screenshot(path=f"{SHOTS}/{slug or 'home'}-{width}.png", full_page=True)
    return found


def _signed_in(page: Page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    """Hand the browser a session past both factors (the sign-in itself is tested elsewhere)."""
    client = session_for(Client(), user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def month(live_server, settings, tmp_path) -> Day:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:layout:{tmp_path.name}"
    return build_busy_day(escalation=True)


def test_every_portal_page_is_measured() -> None:
    names = {
        p.name
        for p in portal_urls.portal_patterns
        if isinstance(p, URLPattern) and p.name is not None
    }
    measured = {visit.name for visit in VISITS}
    assert names - measured - set(NOT_PAGES) == set()
    assert (measured | set(NOT_PAGES)) - names == set()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_portal_page_overflows_at_1400_or_390_px(page: Page, live_server, month: Day) -> None:
    found: list[str] = []
    signed_in_as = None
    for visit in VISITS:
        if visit.role != signed_in_as:
            _signed_in(page, live_server, month.staff[visit.role])
            signed_in_as = visit.role
        page.set_viewport_size({"width": WIDE, "height": 900})
        url = visit.path(month)
        response = page.goto(live_server.url + url)
        assert response is not None, url
        assert response.status == 200, (url, visit.role)
        found += [f"{url} ({visit.role}) {what}" for what in overflows(page)]
    assert not found, "\n".join(found)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_sign_in_pages_hold_their_layout(page: Page, live_server, month: Day) -> None:
    found: list[str] = []
    page.set_viewport_size({"width": WIDE, "height": 900})
    page.goto(live_server.url + "/")
    found += [f"login {what}" for what in overflows(page)]
    for user, heading in (
        (month.staff[Role.MODERATOR], "Enter your code"),
        (staff(Role.TRIAGE, "new_starter", enrol=False), "Set up two-factor sign-in"),
    ):
        page.context.clear_cookies()
        page.set_viewport_size({"width": WIDE, "height": 900})
        page.goto(live_server.url + "/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name=heading).wait_for()
        found += [f"{heading} {what}" for what in overflows(page)]
    assert not found, "\n".join(found)
