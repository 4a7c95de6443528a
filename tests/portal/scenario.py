"""A small, believable moderation day for the portal's tests, built through the domain's doors.

Staff with each role (and a TOTP device), app users, a direct thread with a reported message, and a
few more cases of different priorities. Everything goes through the managers and services, so the
audit log is what production would write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.models import User
from accounts.roles import Role, grant_role
from messaging.models import Connection, Message, Thread
from moderation import services
from moderation.models import Case, ChildSafetyEscalation
from safety_portal.core.audit.actors import SystemActor
from tests.factories.accounts import AppUserFactory, StaffFactory
from tests.factories.moderation import GROOMING, MINORS, report_message

ACTOR = SystemActor("tests.portal")
PASSWORD = "correct horse battery staple"  # StaffFactory's password

ROLE_USERNAMES = {
    Role.TRIAGE: "tess_triage",
    Role.MODERATOR: "mo_moderator",
    Role.SENIOR_MODERATOR: "sen_senior",
    Role.AUDITOR: "aud_auditor",
    Role.ADMINISTRATOR: "ada_admin",
    Role.CHILD_SAFETY: "cy_childsafety",
}


def staff(role: Role | None, username: str, *, enrol: bool = True) -> User:
    user = StaffFactory(username=username)
    if role is not None:
        grant_role(user, role, actor=ACTOR)
    if enrol:
        twofactor.enrol_directly(user, actor=ACTOR)
    return User.objects.get(pk=user.pk)


def current_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


@dataclass
class Day:
    staff: dict[Role, User]
    sender: User
    recipient: User
    thread: Thread
    reported: Message
    message_case: Case
    others: list[Case] = field(default_factory=list)
    minor: User | None = None


def friends(a: User, b: User) -> None:
    Connection.objects.follow(follower=a, followee=b, actor=ACTOR)
    Connection.objects.follow(follower=b, followee=a, actor=ACTOR)


def build_day() -> Day:
    people = {role: staff(role, name) for role, name in ROLE_USERNAMES.items()}
    sender = AppUserFactory(username="sam_sends", age=29, country="GB")
    recipient = AppUserFactory(username="jo_receives", age=24, country="IE")
    friends(sender, recipient)
    thread = Thread.objects.start(creator=sender, participants=[recipient], actor=ACTOR)
    lines = [
        (sender, "hey, saw your post about the match"),
        (recipient, "haha yes, what a finish"),
        (sender, "you should send me your address, I'll come round tonight"),
        (recipient, "no thanks, I don't share that"),
        (sender, "you'll regret ignoring me. I know where you work."),
        (recipient, "stop. I'm reporting this."),
    ]
    sent = [
        Message.objects.send(sender=who, thread=thread, body=body, actor=ACTOR)
        for who, body in lines
    ]
    reported = sent[4]
    report = services.file_report(
        actor=ACTOR,
        reporter=recipient,
        subject_type="message",
        subject_id=reported.pk,
        category="STATEMENT_CATEGORY_VIOLENCE",
        explanation="He threatened me after I refused to give my address.",
    )
    minor = AppUserFactory(username="lily_fifteen", age=15, country="GB")
    other_adult = AppUserFactory(username="rex_spam", age=41, country="FR")
    others = [
        services.file_report(
            actor=ACTOR,
            reporter=minor,
            subject_type="user",
            subject_id=other_adult.pk,
            category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            explanation="This account keeps asking people my age to video chat.",
        ).case,
        services.file_report(
            actor=ACTOR,
            reporter=sender,
            subject_type="user",
            subject_id=AppUserFactory(username="coin_promo", age=33, country="NL").pk,
            category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            explanation="Crypto giveaway links in every comment.",
        ).case,
    ]
    return Day(
        staff=people,
        sender=sender,
        recipient=recipient,
        thread=thread,
        reported=reported,
        message_case=report.case,
        others=others,
        minor=minor,
    )


def escalate_grooming_report(day: Day) -> ChildSafetyEscalation:
    """The day's reported message reported again as grooming, and decided: the account is held and
    the case escalated to the child-safety lead (issue 12.6)."""
    moderator = day.staff[Role.MODERATOR]
    report = report_message(
        day.reported, reporter=day.recipient, category=MINORS, keywords=[GROOMING]
    )
    case = Case.objects.get(pk=report.case_id)
    Case.objects.claim(case, actor=moderator)
    services.decide(
        case, actor=moderator, decision_type="suspend", days=30, ground="tc_harassment",
        explanation="Your messages broke our rules on child safety.",
        facts="Asked a 17-year-old for private photos and to keep it secret.",
    )  # fmt: skip
    return ChildSafetyEscalation.objects.get(case=case)
