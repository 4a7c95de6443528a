"""Every main page in the browser, with a month of moderation behind it; screenshots for the README.

Each page must load with no Content-Security-Policy violation reported by Chromium and no broken
image or stylesheet. `PORTAL_SCREENSHOTS=docs/screenshots` writes the README's pictures; without it
they go to a temporary directory and the checks still run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from accounts import minimum_age_sweep as sweeps
from accounts.models import BirthdateChangeRequest, User
from accounts.roles import Role
from moderation import services
from moderation.models import Case, Flag
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.accounts import AppUserFactory, birthdate_for_age

from .scenario import ACTOR, Day, build_day, staff
from .test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATEGORIES = [
    ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "Keeps sending insults after being blocked elsewhere."),
    ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "Asks people to pay for 'verified' badges."),
    ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "Asking younger users for private photos."),
    ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "Slurs in every comment."),
    ("STATEMENT_CATEGORY_VIOLENCE", "Threatened to hurt a classmate."),
    ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "Posted someone's address."),
    ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "Spam links in direct messages."),
]
OUTCOMES = [
    ("no_violation", {}),
    ("warn", {"ground": "tc_harassment"}),
    ("suspend", {"ground": "tc_harassment", "days": 3}),
    ("suspend", {"ground": "tc_scams", "days": 7}),
    ("restrict_feature", {"ground": "tc_spam", "days": 14, "feature": "direct_messages"}),
    ("warn", {"ground": "tc_hate"}),
]


def _month_of_work(day: Day, rng: random.Random) -> None:
    """Reports over the last 30 days, most decided within hours, some appealed."""
    moderator = day.staff[Role.MODERATOR]
    senior = day.staff[Role.SENIOR_MODERATOR]
    people = [
        AppUserFactory(username=f"{name}{i:02d}", age=age, country=country)
        for i, (name, age, country) in enumerate(
            [
                ("maya_draws", 16, "GB"),
                ("finn_plays", 19, "IE"),
                ("lena_sings", 24, "DE"),
                ("ugo_films", 15, "FR"),
                ("rosa_runs", 31, "ES"),
                ("kai_codes", 17, "NL"),
                ("tara_bakes", 42, "SE"),
                ("omar_skates", 27, "PL"),
            ]
            * 3
        )
    ]
    now = clock.now()
    appealed = 0
    for back in range(29, 0, -1):
        for _ in range(rng.randint(2, 6)):
            moment = now - dt.timedelta(days=back, hours=rng.randint(0, 20))
            subject, reporter = rng.sample(people, 2)
            category, explanation = rng.choice(CATEGORIES)
            with time_machine.travel(moment, tick=False):
                report = services.file_report(
                    actor=ACTOR,
                    reporter=reporter,
                    subject_type="user",
                    subject_id=subject.pk,
                    category=category,
                    explanation=explanation,
                )
            case = report.case
            if case.status != "open" or rng.random() < 0.15:
                continue
            with time_machine.travel(moment + dt.timedelta(hours=rng.randint(1, 30)), tick=False):
                Case.objects.claim(case, actor=moderator)
                kind, extra = rng.choice(OUTCOMES)
                decision = services.decide(
                    case,
                    actor=moderator,
                    decision_type=kind,
                    facts="The reported messages break the community guidelines as described.",
                    explanation="What you posted broke our rules."
                    if kind != "no_violation"
                    else "",
                    **extra,
                )
                if kind != "no_violation" and appealed < 9 and rng.random() < 0.35:
                    appealed += 1
                    appeal = services.file_appeal(
                        decision,
                        appellant=decision.target_user,
                        statement="I was joking with a friend; we know each other offline.",
                        actor=decision.target_user,
                    )
                    if appealed > 2:
                        services.decide_appeal(
                            appeal,
                            actor=senior,
                            overturn=rng.random() < 0.3,
                            note="Checked the context of the conversation.",
                        )


def _signals(day: Day) -> None:
    services.record_age_estimate(
        user=day.minor, estimated_age=11.2, confidence=0.93, actor=ACTOR, model="face-age v4"
    )
    adult = AppUserFactory(username="dm_everyone_44", age=44, country="GB")
    Flag.objects.raise_signal(
        user_id=adult.pk,
        kind=Flag.Kind.CONTACT_RISK,
        signal={"source": "contact_risk", "reasons": ["6 refused direct messages to minors"]},
        actor=ACTOR,
    )
    teen = AppUserFactory(username="sofia_says_older", age=15, country="ES")
    BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=birthdate_for_age(18),
        method=rules.vocabulary.AssuranceMethod.ID_DOCUMENT,
        evidence_reference="idv-vendor:check/8f2c61",
        reason="Typed the wrong year at sign-up; ID check submitted.",
        actor=ACTOR,
    )


@pytest.fixture
def busy_day(live_server, settings, tmp_path) -> Day:
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.log")
    settings.AUDIT_ANCHOR_STREAM = f"tests:portal:shots:{tmp_path.name}"
    rng = random.Random(20261129)
    with time_machine.travel(clock.now() - dt.timedelta(hours=30), tick=False):
        old = AppUserFactory(username="quiet_lurker", age=35, country="IT")
        services.file_report(
            actor=ACTOR,
            reporter=None,
            subject_type="user",
            subject_id=old.pk,
            category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            keywords=["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"],
            explanation="Anonymous tip: adult asking teens to move to another app.",
        )
    day = build_day()
    _month_of_work(day, rng)
    _signals(day)
    _minimum_age_sweep(rng)
    return day


def _minimum_age_sweep(rng: random.Random) -> None:
    """Australia's minimum age of 16: a staff sweep finds the AU accounts below it; one proves
    its age on appeal, one is closed after its windows."""
    before_the_law = dt.datetime(2025, 11, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(before_the_law, tick=False):
        teens = [
            AppUserFactory(username=f"au_teen{i:02d}", age=rng.choice([13, 14]), country="AU")
            for i in range(9)
        ]
        AppUserFactory.create_batch(3, age=17, country="AU")
    sweep = sweeps.start(key="staff:AU", country="AU", on=clock.today(), source="demo", actor=ACTOR)
    sweeps.run(sweep, actor=ACTOR)
    User.objects.change_status(teens[0], "active", actor=ACTOR, reason="appeal upheld")
    User.objects.change_status(teens[1], "banned", actor=ACTOR, reason="closed after the window")


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
    _visit(page, base + "/cases/?view=open", shots / "case-queue.png", problems)
    case = day.message_case
    page.goto(base + f"/cases/{case.pk}/")
    page.get_by_test_id("claim").click()
    page.get_by_test_id("open-thread").click()
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
