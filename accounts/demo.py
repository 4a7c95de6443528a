"""Demo accounts: 200+ app users across every tier and a dozen countries, plus the staff logins.

Includes the boundary people a reviewer will look for: a user whose 16th birthday is today, one born on
29 February, a 17-year-old who turns 18 tomorrow, a pending birthdate-change request, an account in
under-age review after a corrected birthdate, and an active guardian link.

Each staff login gets its role and a second factor (`enrol_demo_staff`), printed by `seed_demo`.
Idempotent: a role already held is kept, an existing authenticator is reused and its remaining
backup codes are printed again (new ones are issued only when fewer than `SHOWN_CODES` are left).
Nothing secret is stored beyond django-otp's own tables; the otpauth URI printed is the one the
enrolment page shows.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts import twofactor
from accounts.models import BirthdateChangeRequest, GuardianLink, User
from accounts.roles import Role, grant_role
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.demo import DEMO_ACTOR, DemoContext, DemoLogin

COUNTRIES = ["GB", "IE", "FR", "DE", "ES", "IT", "NL", "SE", "PL", "US", "AU", "KR", "BR", "JP"]
FIRST = [
    "amara",
    "ben",
    "chloe",
    "dev",
    "elif",
    "finn",
    "grace",
    "hugo",
    "isla",
    "jonas",
    "kai",
    "lena",
    "mateo",
    "nina",
    "oscar",
    "priya",
    "quinn",
    "rosa",
    "sami",
    "tara",
    "ugo",
    "vera",
    "wen",
    "yusuf",
]
SUFFIX = ["_skates", "_draws", "_vlogs", "_plays", "_bakes", "_runs", "_sings", "_codes", "_films"]
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - printed demo credentials, DEBUG only
STAFF = [
    ("Triage", "triage"),
    ("Moderator", "moderator"),
    ("Senior moderator", "senior"),
    ("Auditor", "auditor"),
    ("Administrator", "admin"),
    ("Child safety lead", "childsafety"),
]


def _birthdate(rng: object, age: int, today: dt.date) -> dt.date:
    days = rng.randint(1, 360)  # type: ignore[attr-defined]
    return rules.ages.latest_birthdate_for_age(age, today) - dt.timedelta(days=days)


def _joined(rng: object, birthdate: dt.date, country: str, today: dt.date) -> dt.datetime:
    """When the account was opened: up to two years ago, but not before the person entered
    the age tier they are in today, so their tier-default settings are the ones the sign-up
    gave them (the nightly birthday job has nothing to catch up on), nor before they reached
    their country's minimum age."""
    tier_start, _ = rules.ages.tier_ages(rules.ages.tier_on(birthdate, today))
    tier_start = max(tier_start, rules.jurisdictions.minimum_age(country, on=today))
    since_tier = (today - rules.ages.nth_birthday(birthdate, tier_start)).days
    days = rng.randint(0, max(0, min(730, since_tier)))  # type: ignore[attr-defined]
    moment = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(12), tzinfo=dt.UTC)
    return min(moment, clock.now())


def _app_user(username: str, birthdate: dt.date, country: str, joined: dt.datetime) -> User:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    with clock.seeding_history(joined):
        return User.objects.create_app_user(
            actor=DEMO_ACTOR,
            username=username,
            birthdate=birthdate,
            country=country,
            external_id=f"app-{username}",
        )


def seed(ctx: DemoContext) -> None:
    today = clock.today()
    rng = ctx.rng
    # Age mix weighted like the app's audience: mostly teens and young adults.
    ages = [13, 14, 15, 15, 16, 16, 17, 17, 18, 19, 21, 24, 28, 35, 42, 51]
    plan = []
    for i in range(216):
        name = f"{FIRST[i % len(FIRST)]}{SUFFIX[i % len(SUFFIX)]}{i:03d}"
        country = COUNTRIES[i % len(COUNTRIES)]
        # Nobody below their country's minimum age (POLICY.md §2: Australia's is higher).
        age = max(
            ages[rng.randrange(len(ages))], rules.jurisdictions.minimum_age(country, on=today)
        )
        born = _birthdate(rng, age, today)
        plan.append((name, born, country, _joined(rng, born, country, today)))
    with transaction.atomic():
        for name, born, country, joined in ctx.progress(plan, total=len(plan), label="app users"):
            _app_user(name, born, country, joined)

        special = _seed_boundary_people(today)
        _seed_requests_and_links(special)
        _seed_staff(ctx)
    ctx.say(f"{User.objects.app_users().count()} app users, {len(COUNTRIES)} countries.")


def _seed_boundary_people(today: dt.date) -> dict[str, User]:
    tomorrow = today + dt.timedelta(days=1)
    leap_year = next(y for y in range(today.year - 14, 1999, -1) if y % 4 == 0)
    people = {
        "maya_sweet16": (
            rules.ages.latest_birthdate_for_age(rules.ages.DM_MINIMUM_AGE, today),
            "GB",
        ),
        "luca_leapday": (dt.date(leap_year, 2, 29), "IT"),
        "noah_almost18": (
            rules.ages.latest_birthdate_for_age(rules.ages.ADULT_AGE, tomorrow),
            "IE",
        ),
        "sofia_says_older": (_fixed(today, 15), "ES"),
        "tom_age_corrected": (_fixed(today, rules.jurisdictions.minimum_age("DE", on=today)), "DE"),
        "parent_ana": (_fixed(today, 44), "NL"),
        "teo_ana": (_fixed(today, 14), "NL"),
    }
    now = clock.now()
    return {name: _app_user(name, born, country, now) for name, (born, country) in people.items()}


def _fixed(today: dt.date, age: int) -> dt.date:
    return rules.ages.latest_birthdate_for_age(age, today) - dt.timedelta(days=100)


def _seed_requests_and_links(people: dict[str, User]) -> None:
    sofia = people["sofia_says_older"]
    if not BirthdateChangeRequest.objects.filter(user=sofia).exists():
        BirthdateChangeRequest.objects.submit(
            user=sofia,
            new_birthdate=sofia.birthdate - dt.timedelta(days=365 * 3),
            method=rules.vocabulary.AssuranceMethod.ID_DOCUMENT,
            evidence_reference="idv-vendor:check/8f2c61",
            reason="User says she typed the wrong year at sign-up; ID check submitted.",
            actor=DEMO_ACTOR,
        )
    tom = people["tom_age_corrected"]
    if not BirthdateChangeRequest.objects.filter(user=tom).exists():
        # A younger correction applies at once; at 12 he is below the minimum age -> under-age review.
        BirthdateChangeRequest.objects.submit(
            user=tom,
            new_birthdate=tom.birthdate + dt.timedelta(days=365 * 1 + 200),
            method=rules.vocabulary.AssuranceMethod.GUARDIAN_VOUCH,
            evidence_reference="support-ticket:55120",
            reason="Parent wrote in: the account holder is 12.",
            actor=DEMO_ACTOR,
        )
    parent, teen = people["parent_ana"], people["teo_ana"]
    if not GuardianLink.objects.filter(guardian=parent, teen=teen).exists():
        link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)
        link = GuardianLink.objects.consent(link, actor=teen)
        GuardianLink.objects.set_limits(
            link,
            actor=parent,
            limits=rules.guardianship.GuardianLimits(
                dm_off=True, daily_screen_time_minutes=45, quiet_hours=(dt.time(20, 30), dt.time(8))
            ),
        )


def _seed_staff(ctx: DemoContext) -> None:
    """One login per staff role; the role is granted through the audited doorway (idempotent)."""
    for role, username in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_staff_user(
                actor=DEMO_ACTOR, username=username, password=DEMO_PASSWORD
            )
        grant_role(user, role, actor=DEMO_ACTOR, reason="Demo login for this role.")
        ctx.logins.append(DemoLogin(role=role, username=username, password=DEMO_PASSWORD))
    # Staff pass a second factor before any page: give each demo login a TOTP device and backup
    # codes, and print how to use them with the logins (idempotent: devices are reused).
    enrol_demo_staff(ctx)


SHOWN_CODES = 4
TWO_FACTOR_NOTE = (
    "Sign in with username and password, then a code from the authenticator app (or a backup "
    "code; each works once). `oathtool --totp -b <secret>` also prints the current code."
)


def enrol_demo_staff(ctx: DemoContext) -> None:
    """Give every staff-role login of `ctx` its role and a second factor, and print how to use it."""
    for login in ctx.logins:
        try:
            role = Role(login.role)
        except ValueError:
            continue  # not a staff role login
        user = User.objects.get(username=login.username)
        grant_role(user, role, actor=DEMO_ACTOR, reason="Demo staff login.")
        device = twofactor.confirmed_device(user)
        if device is None:
            device, _codes = twofactor.enrol_directly(user, actor=DEMO_ACTOR)
        codes = twofactor.unused_backup_codes(user)
        if len(codes) < SHOWN_CODES:
            codes = twofactor.issue_backup_codes(user, actor=DEMO_ACTOR)
        login.second_factor = [
            f"TOTP (add to an authenticator app): {device.config_url}",
            "single-use backup codes: " + " ".join(codes[:SHOWN_CODES]),
        ]
    if TWO_FACTOR_NOTE not in ctx.notes:
        ctx.notes.append(TWO_FACTOR_NOTE)
