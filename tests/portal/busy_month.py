"""A month of moderation behind the portal, for the browser tests that look at every page.

Reports over the last 30 days, most decided within hours and some appealed, age and contact-risk
signals, a birthdate request, Australia's minimum-age sweep and a child-safety escalation: the
pages then hold the long lists, names and figures that a real month gives them (the screenshots
of the README, and the layout checks at 1400 and 390 px).
"""

from __future__ import annotations

import datetime as dt
import random

import time_machine

from accounts import minimum_age_sweep as sweeps
from accounts.models import BirthdateChangeRequest, User
from accounts.roles import Role
from moderation import services
from moderation.models import Case, Flag
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.accounts import AppUserFactory, birthdate_for_age

from .scenario import ACTOR, Day, build_day, escalate_grooming_report

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


def build_busy_day(*, escalation: bool = False) -> Day:
    """The portal's test day with a month of work behind it (seeded: the same month every run)."""
    rng = random.Random(20261129)
    with time_machine.travel(clock.now() - dt.timedelta(hours=30), tick=False):
        old = AppUserFactory(username="quiet_lurker", age=35, country="IT")
        tip = services.file_report(
            actor=ACTOR,
            reporter=None,
            subject_type="user",
            subject_id=old.pk,
            category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            keywords=["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"],
            explanation="Anonymous tip: adult asking teens to move to another app.",
        )
    day = build_day()
    # A senior holds the anonymous grooming tip: "Cases involving minors" shows who holds what.
    Case.objects.claim(tip.case, actor=day.staff[Role.SENIOR_MODERATOR])
    _month_of_work(day, rng)
    _signals(day)
    _minimum_age_sweep(rng)
    if escalation:
        escalate_grooming_report(day)
    return day
