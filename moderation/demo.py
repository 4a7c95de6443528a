"""Demo moderation data: a real day's work for a moderator opening the portal (issue 4).

Open cases of every priority band (some overdue, some involving minors, one from a trusted
flagger, one escalated, one in progress), decided cases with their statements of reasons, a
pending and a decided appeal, and raised contact-risk and age flags. Everything goes through the
same managers and services as production, so the audit log, notices and statements are real.

Idempotent: each scenario marks its first report with `evidence["demo"] = <key>` and is skipped
when that report exists. Runs after `accounts.demo` (people, staff roles) and `messaging.demo`
(threads and messages; the message scenarios are skipped without them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction

from accounts.models import SafetySettings, User
from messaging.models import Connection, Message, Thread
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.demo import DEMO_ACTOR, DemoContext
from safety_portal.core.errors import PolicyViolation
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword, SourceType

from . import risk_signals, services
from .models import Case, CaseNote, Flag, Report, ReporterStanding, TrustedFlagger

HOTLINE = "Safer Internet Hotline (demo)"
MINORS = Category.PROTECTION_OF_MINORS.value
GROOMING = CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS.value
SPECIAL = {
    "maya_sweet16",
    "luca_leapday",
    "noah_almost18",
    "sofia_says_older",
    "tom_age_corrected",
    "parent_ana",
    "teo_ana",
}


class _People:
    """Demo app users by age group, in a stable order, each handed out once per run."""

    def __init__(self) -> None:
        today = clock.today()
        base = User.objects.app_users().exclude(username__in=SPECIAL).order_by("pk")
        self.pools = {
            "adult": list(base.adults(on=today)),
            "young_teen": list(base.in_tier("young_teen", on=today)),
            "older_teen": list(base.in_tier("older_teen", on=today)),
        }
        self.next = dict.fromkeys(self.pools, 0)

    def take(self, group: str) -> User:
        pool = self.pools[group]
        if self.next[group] >= len(pool):
            raise RuntimeError(f"the demo needs more {group} users; run accounts.demo first")
        person = pool[self.next[group]]
        self.next[group] += 1
        return person


def _done(key: str) -> bool:
    return Report.objects.filter(evidence__demo=key).exists()


def _report(key: str, subject: User, **kwargs: Any) -> Report:
    evidence = {"demo": key, **kwargs.pop("evidence", {})}
    kwargs.setdefault("actor", kwargs.get("reporter") or DEMO_ACTOR)
    return services.file_report(
        subject_type="user", subject_id=subject.pk, evidence=evidence, **kwargs
    )


def _backdate(case: Case, hours: float) -> None:
    """Demo only: move a case's clock back so the queue shows overdue work. The due time is
    recomputed from the same formula (the gap to opening is kept)."""
    shift = dt.timedelta(hours=hours)
    Case.objects.filter(pk=case.pk).update(
        opened_at=case.opened_at - shift, due_at=case.due_at - shift
    )
    case.reports.update(created_at=case.opened_at - shift)


def seed(ctx: DemoContext) -> None:
    staff = {
        u.username: u for u in User.objects.filter(username__in=["triage", "moderator", "senior"])
    }
    if len(staff) < 3:
        ctx.say("moderation: staff logins missing (run accounts.demo first); skipped.")
        return
    people = _People()
    scenarios: list[tuple[str, Callable[[], None]]] = [
        ("open cases of every priority", lambda: _open_cases(people, staff)),
        ("decided cases and appeals", lambda: _decided_cases(people, staff)),
        ("flags", lambda: _flags(people, staff)),
        ("message cases", lambda: _message_cases(people, staff)),
        ("a month of reports", lambda: _month_of_reports(people, staff, ctx.rng)),
    ]
    for _label, scenario in ctx.progress(scenarios, total=len(scenarios), label="moderation"):
        with transaction.atomic():
            scenario()
    open_cases = Case.objects.open()
    ctx.say(
        f"{open_cases.count()} open cases ({open_cases.overdue().count()} overdue, "
        f"{open_cases.involving_minors().count()} involving minors), "
        f"{Case.objects.decided().count()} decided, {Flag.objects.open().count()} open flags."
    )
    ctx.notes.append(
        "Moderation: log in as 'moderator' and claim the top case; 'senior' has the escalated "
        "case and a pending appeal; 'auditor' can export statements of reasons."
    )


def _open_cases(people: _People, staff: dict[str, User]) -> None:
    if not _done("grooming"):
        _grooming_story(people, staff)
    if not _done("self-harm"):
        _report(
            "self-harm",
            people.take("young_teen"),
            reporter=people.take("young_teen"),
            category=Category.SELF_HARM,
            keywords=[CategoryKeyword.SELF_MUTILATION],
            explanation="My friend posted that she wants to hurt herself tonight.",
        )
    if not _done("trusted-flagger"):
        hotline = TrustedFlagger.objects.filter(name=HOTLINE).first()
        if hotline is None:
            hotline = TrustedFlagger.objects.register(
                name=HOTLINE, designated_by="IE", actor=DEMO_ACTOR
            )
        _report(
            "trusted-flagger",
            people.take("adult"),
            trusted_flagger=hotline,
            source_type=SourceType.TRUSTED_FLAGGER,
            category=Category.CYBER_VIOLENCE,
            keywords=[CategoryKeyword.CYBER_HARASSMENT],
            explanation="Coordinated harassment of a journalist, 14 accounts involved.",
        )
    if not _done("teen-harassment"):
        case = _report(
            "teen-harassment",
            people.take("older_teen"),
            reporter=people.take("older_teen"),
            category=Category.CYBER_VIOLENCE,
            keywords=[CategoryKeyword.CYBER_BULLYING_INTIMIDATION],
            explanation="Posting edited photos of me with insults every day.",
        ).case
        _backdate(case, 6)  # P2, overdue
    if not _done("adult-harassment"):
        case = _report(
            "adult-harassment",
            people.take("adult"),
            reporter=people.take("adult"),
            category=Category.ILLEGAL_OR_HARMFUL_SPEECH,
            keywords=[CategoryKeyword.HATE_SPEECH],
            explanation="Slurs about my religion in the comments under every video.",
        ).case
        Case.objects.claim(case, actor=staff["moderator"])  # in progress
        CaseNote.objects.add(case, actor=staff["moderator"], body="Checking the comment history.")
    if not _done("scam-flood"):
        subject = people.take("adult")
        for n in range(4):
            _report(
                "scam-flood" if n == 0 else f"scam-flood-{n}",
                subject,
                reporter=people.take("adult"),
                category=Category.SCAMS_AND_FRAUD,
                keywords=[CategoryKeyword.PHISHING],
                explanation="Sent me a link to 'verify my account' that asks for my password.",
            )
    if not _done("scam-single"):
        case = _report(
            "scam-single",
            people.take("adult"),
            reporter=people.take("adult"),
            category=Category.SCAMS_AND_FRAUD,
            explanation="Selling fake concert tickets.",
        ).case
        _backdate(case, 24 * 4)  # P4, overdue
    if not _done("copyright"):
        _report(
            "copyright",
            people.take("adult"),
            reporter=people.take("adult"),
            category=Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS,
            keywords=[CategoryKeyword.COPYRIGHT_INFRINGEMENT],
            explanation="Reuploads my videos as their own.",
        )
    if not _done("marked-reporter"):
        reporter = people.take("adult")
        if not ReporterStanding.objects.filter(reporter=reporter).exists():
            ReporterStanding.objects.record_outcomes(
                [reporter.pk] * 7, upheld=False, actor=DEMO_ACTOR
            )
        _report(
            "marked-reporter",
            people.take("adult"),
            reporter=reporter,
            category=Category.CYBER_VIOLENCE,
            explanation="They disagreed with me.",
        )
    if not _done("escalated"):
        case = _report(
            "escalated",
            people.take("adult"),
            reporter=people.take("older_teen"),
            category=Category.RISK_FOR_PUBLIC_SECURITY,
            explanation="Posts about bringing a weapon to school on Monday.",
        ).case
        Case.objects.claim(case, actor=staff["triage"])
        services.decide(
            case,
            actor=staff["triage"],
            decision_type="escalate",
            facts="Possible threat to a school; needs a senior and possibly the police.",
        )


def _claim_and_decide(case: Case, moderator: User, **kwargs: Any) -> Any:
    Case.objects.claim(case, actor=moderator)
    return services.decide(case, actor=moderator, **kwargs)


def _decided_cases(people: _People, staff: dict[str, User]) -> None:
    moderator, senior = staff["moderator"], staff["senior"]
    if not _done("suspended-appeal-pending"):
        subject = people.take("adult")
        case = _report(
            "suspended-appeal-pending",
            subject,
            reporter=people.take("adult"),
            category=Category.CYBER_VIOLENCE,
            keywords=[CategoryKeyword.CYBER_HARASSMENT],
            explanation="Threatening messages after I blocked him elsewhere.",
        ).case
        decision = _claim_and_decide(
            case,
            moderator,
            decision_type="suspend",
            ground="tc_harassment",
            days=7,
            facts="Eleven messages over two days with threats after the recipient asked to stop.",
        )
        services.file_appeal(
            decision,
            appellant=subject,
            statement="Those messages were a joke between old friends.",
            actor=subject,
        )
    if not _done("dm-ban-overturned"):
        subject = people.take("adult")
        case = _report(
            "dm-ban-overturned",
            subject,
            reporter=people.take("adult"),
            category=Category.SCAMS_AND_FRAUD,
            explanation="Spam links in my inbox.",
        ).case
        decision = _claim_and_decide(
            case,
            moderator,
            decision_type="restrict_feature",
            ground="tc_spam",
            feature="direct_messages",
            days=14,
            facts="Links to an external shop sent to many accounts.",
        )
        appeal = services.file_appeal(
            decision,
            appellant=subject,
            statement="My account was hacked that day; I have since changed my password.",
            actor=subject,
        )
        services.decide_appeal(
            appeal,
            actor=senior,
            overturn=True,
            note="Login history confirms a takeover from a new device on that day.",
        )
    if not _done("terminated"):
        case = _report(
            "terminated",
            people.take("adult"),
            reporter=people.take("adult"),
            category=Category.VIOLENCE,
            keywords=[CategoryKeyword.INCITEMENT_VIOLENCE_HATRED],
            explanation="Calls for attacks on a named group.",
        ).case
        _claim_and_decide(
            case,
            senior,
            decision_type="terminate",
            ground="law_threats",
            facts="Repeated public calls for violence against a group, after two suspensions.",
        )
    if not _done("warned"):
        case = _report(
            "warned",
            people.take("older_teen"),
            reporter=people.take("older_teen"),
            category=Category.CYBER_VIOLENCE,
            explanation="Mean comments.",
        ).case
        _claim_and_decide(
            case,
            moderator,
            decision_type="warn",
            ground="tc_harassment",
            facts="Two insulting comments under another user's video.",
        )
    if not _done("no-violation"):
        case = _report(
            "no-violation",
            people.take("adult"),
            reporter=people.take("adult"),
            category=Category.OTHER_VIOLATION_TC,
            explanation="I don't like their videos.",
        ).case
        _claim_and_decide(
            case, moderator, decision_type="no_violation", facts="Lawful content; no rule broken."
        )


def _flags(people: _People, staff: dict[str, User]) -> None:
    if not _done("age-flag-open"):
        subject = people.take("adult")
        _report(
            "age-flag-open",
            subject,
            reporter=people.take("adult"),
            category=MINORS,
            keywords=[CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS],
            explanation="Says in a video that she is in year 6 at school.",
        )
        services.record_age_estimate(
            user=subject, estimated_age=11.2, confidence=0.91, actor=DEMO_ACTOR, model="demo-age-v2"
        )
    if not _done("age-check-required"):
        subject = people.take("young_teen")
        flag = services.record_age_estimate(
            user=subject, estimated_age=10.4, confidence=0.95, actor=DEMO_ACTOR, model="demo-age-v2"
        )
        _report(
            "age-check-required",
            subject,
            reporter=people.take("young_teen"),
            category=MINORS,
            keywords=[CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS],
            explanation="He is in my little brother's class, he is 10.",
        )
        flag = Flag.objects.get(user=subject, kind="age", status="open")
        services.request_age_verification(
            flag, actor=staff["senior"], note="Estimate and a classmate's report agree."
        )
    if not Flag.objects.filter(kind=Flag.Kind.CONTACT_RISK).exists():
        adult = people.take("adult")
        for _ in range(3):
            minor = people.take("young_teen")
            try:
                Thread.objects.start(creator=adult, participants=[minor], actor=adult)
            except PolicyViolation:
                continue  # refused, as the policy says: each refusal is the signal's evidence
            raise RuntimeError("the demo expected the policy to refuse an adult messaging a 13-15")
        risk_signals.evaluate_contact_risk(user_id=adult.pk, actor=DEMO_ACTOR, at=clock.now())


def _message_cases(people: _People, staff: dict[str, User]) -> None:
    if _done("message-removed") and _done("message-open"):
        return
    messages = list(
        Message.objects.filter(moderation_state="visible", thread__kind=Thread.Kind.DIRECT)
        .select_related("thread", "sender")
        .order_by("pk")[:40]
    )
    today = clock.today()
    adult_messages = [
        m
        for m in messages
        if m.sender.birthdate is not None
        and not rules.ages.is_minor(m.sender.birthdate, today)
        and not m.thread.locked
    ]
    if len(adult_messages) < 2:
        return
    first, second = adult_messages[0], adult_messages[-1]
    for key, message in (("message-removed", first), ("message-open", second)):
        if _done(key):
            continue
        other = message.thread.participants.exclude(user_id=message.sender_id).first()
        report = services.file_report(
            actor=other.user,
            reporter=other.user,
            subject_type="message",
            subject_id=message.pk,
            category=Category.CYBER_VIOLENCE,
            explanation="This message insults me.",
            evidence={"demo": key},
        )
        if key == "message-removed":
            _claim_and_decide(
                report.case,
                staff["moderator"],
                decision_type="remove_messages",
                ground="tc_harassment",
                facts="The message insults the recipient.",
            )


# --- the grooming case, one story (issue 15.4) -------------------------------------------------

GROOMING_CHATS = [
    [
        ("adult", "hey! saw your skate clip, that kickflip was clean"),
        ("teen", "haha thanks, took me ages"),
        ("adult", "you seem really mature for 16 tbh"),
        ("teen", "lol ok"),
        ("adult", "do you have insta or something more private?"),
    ],
    [
        ("adult", "you were so good at the match today"),
        ("teen", "thank you!! were you there?"),
        ("adult", "yeah I film the league games. I can send you the clips"),
        ("teen", "ok cool"),
        ("adult", "just between us though, your coach is weird about filming"),
    ],
]
GROOMING_REPORTED = (
    "add me on another app, it's more private here. and don't tell your mum, "
    "she wouldn't understand us"
)
GROOMING_THREAD = [
    ("adult", "hey, remember me from the skatepark? you've got real talent"),
    ("teen", "oh hi, yeah"),
    ("adult", "I could help you get sponsored, I know people"),
    ("teen", "really? that would be amazing"),
    ("adult", "sure. send me some more videos of you, just for me"),
    ("teen", "what kind of videos?"),
    ("adult", GROOMING_REPORTED),
    ("teen", "I don't know, that's a bit weird"),
    ("adult", "it's fine, everyone does it. it's our secret ok?"),
]


def _ago(days: float = 0, hours: float = 0) -> dt.datetime:
    return clock.now() - dt.timedelta(days=days, hours=hours)


def _befriend_for_messages(adult: User, teen: User) -> None:
    SafetySettings.objects.change(teen, actor=DEMO_ACTOR, dm_setting="friends")
    Connection.objects.follow(follower=adult, followee=teen, actor=DEMO_ACTOR)
    Connection.objects.follow(follower=teen, followee=adult, actor=DEMO_ACTOR)


def _converse(adult: User, teen: User, lines: list[tuple[str, str]]) -> list[Message]:
    thread = Thread.objects.direct_between(adult, teen).first() or Thread.objects.start(
        creator=adult, participants=[teen], actor=adult
    )
    speakers = {"adult": adult, "teen": teen}
    sent = []
    for who, body in lines:
        sender = speakers[who]
        sent.append(Message.objects.send(sender=sender, thread=thread, body=body, actor=sender))
    return sent


def _grooming_story(people: _People, staff: dict[str, User]) -> None:
    """An adult who befriends 16-17-year-olds, was warned three weeks ago after one of them
    reported him, writes to two more in the last day and is refused for a 14-year-old (which
    raises the contact-risk flag), and is now reported by a 16-17-year-old for the message that
    asks her to move to another app and keep it secret. Every piece is written as it would have happened, on
    its day (`clock.seeding_history`), so the case's evidence, the contact-risk signal and the
    prior history agree with the report."""
    adult = people.take("adult")
    reporter, others = people.take("older_teen"), [people.take("older_teen") for _ in range(2)]
    younger = people.take("young_teen")
    with clock.seeding_history(_ago(days=24)):
        _befriend_for_messages(adult, others[1])
        _converse(adult, others[1], GROOMING_CHATS[1])
        earlier = _report(
            "grooming-earlier",
            adult,
            reporter=others[1],
            category=MINORS,
            keywords=[GROOMING],
            explanation="He wants to film me and says not to tell my coach.",
        ).case
    with clock.seeding_history(_ago(days=23)):
        _claim_and_decide(
            earlier,
            staff["moderator"],
            decision_type="warn",
            ground="tc_minor_safety",
            facts="Asked a 16-year-old to keep contact secret from her coach; first warning.",
        )
    # The last day: three minors within the contact-risk window, which raises the flag.
    with clock.seeding_history(_ago(hours=20)):
        _befriend_for_messages(adult, reporter)
        sent = _converse(adult, reporter, GROOMING_THREAD)
    with clock.seeding_history(_ago(hours=10)):
        _befriend_for_messages(adult, others[0])
        _converse(adult, others[0], GROOMING_CHATS[0])
    with clock.seeding_history(_ago(hours=6)):
        try:
            Thread.objects.start(creator=adult, participants=[younger], actor=adult)
        except PolicyViolation:
            pass  # refused, as the policy says; the refusal is the contact-risk evidence
        else:
            raise RuntimeError("the demo expected the policy to refuse an adult messaging a 14")
    reported = next(m for m in sent if m.body == GROOMING_REPORTED)
    with clock.seeding_history(_ago(hours=3)):
        services.file_report(
            actor=reporter,
            reporter=reporter,
            subject_type="message",
            subject_id=reported.pk,
            category=MINORS,
            keywords=[GROOMING],
            explanation="He keeps asking me to add him on another app and to keep it secret.",
            evidence={"demo": "grooming"},
        )
    risk_signals.evaluate_contact_risk(user_id=adult.pk, actor=DEMO_ACTOR, at=clock.now())


# --- a month of ordinary reports, so the dashboard's charts show a month (issue 15.4) -----------

MONTHLY = [
    (Category.CYBER_VIOLENCE, "tc_harassment", "Keeps commenting that I'm ugly on every video."),
    (Category.CYBER_VIOLENCE, "tc_harassment", "Made a fake account with my photos."),
    (Category.SCAMS_AND_FRAUD, "tc_scams", "Promises free followers if I send a gift card code."),
    (Category.SCAMS_AND_FRAUD, "tc_spam", "Posts the same shop link under everyone's videos."),
    (Category.ILLEGAL_OR_HARMFUL_SPEECH, "tc_hate", "Jokes about my skin colour in a live."),
    (Category.OTHER_VIOLATION_TC, "tc_spam", "Reposting my dance with his watermark."),
]


def _month_of_reports(people: _People, staff: dict[str, User], rng: Any) -> None:
    """One to three reports a day over the last 30 days, most decided a few hours later (some
    upheld with a warning, more found to break no rule), each on its day."""
    if _done("month-29-0"):
        return
    pool = people.pools["adult"][-20:] + people.pools["older_teen"][-10:]
    reporters = people.pools["adult"][-40:-20] + people.pools["older_teen"][-20:-10]
    deciders = [staff["moderator"], staff["moderator"], staff["senior"]]
    for day in range(29, 0, -1):
        for n in range(rng.choice((1, 2, 2, 3))):
            category, ground, words = rng.choice(MONTHLY)
            subject, reporter = rng.choice(pool), rng.choice(reporters)
            if subject == reporter:
                continue
            opened = _ago(days=day, hours=rng.uniform(0, 14))
            with clock.seeding_history(opened):
                case = _report(
                    f"month-{day}-{n}",
                    subject,
                    reporter=reporter,
                    category=category,
                    explanation=words,
                ).case
            if day < 2 or rng.random() < 0.1:
                continue  # still waiting: yesterday's, and the odd older one
            with clock.seeding_history(opened + dt.timedelta(hours=rng.uniform(0.5, 30))):
                case.refresh_from_db()
                if case.status != "open" or case.claimed_by_id is not None:
                    continue  # joined a case that is decided or in someone's hands
                upheld = rng.random() < 0.4
                _claim_and_decide(
                    case,
                    rng.choice(deciders),
                    decision_type="warn" if upheld else "no_violation",
                    **({"ground": ground} if upheld else {}),
                    facts=(
                        "Confirmed in the reported content; first warning."
                        if upheld
                        else "Reviewed the account's recent content; no rule broken."
                    ),
                )
