"""Moderation set-up through the real doors: reports, claims, decisions, staff with roles.

Every helper goes through the managers and services (never `objects.create`), so a test's set-up
obeys the same rules as production and writes the same audit entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from accounts.models import User
from moderation import services
from moderation.models import Case, Decision, Report, TrustedFlagger
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword
from tests.factories.accounts import FACTORY_ACTOR, StaffFactory

HARASSMENT = Category.CYBER_VIOLENCE.value
SCAM = Category.SCAMS_AND_FRAUD.value
MINORS = Category.PROTECTION_OF_MINORS.value
GROOMING = CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS.value
CSAM = CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL.value
FACTS = "Repeated insulting messages sent after the other person asked them to stop."


def api_report_body(subject_id: int, **extra: Any) -> dict[str, Any]:
    """The body an integration sends to POST /api/v1/reports/ about a user (a classifier's hit)."""
    return {
        "subject_type": "user",
        "subject_id": subject_id,
        "category": HARASSMENT,
        "explanation": "Insults in comments, flagged by the classifier.",
        "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION",
        **extra,
    }


def staff(role: str, **kwargs: Any) -> User:
    """A staff member holding one of the issue 5 roles (granted through accounts.roles)."""
    return StaffFactory(roles=[role], **kwargs)


def report_user(
    subject: User,
    *,
    reporter: User | None = None,
    category: str = HARASSMENT,
    keywords: Sequence[str] = (),
    explanation: str = "They keep sending me insults.",
    actor: object | None = None,
    **kwargs: Any,
) -> Report:
    return services.file_report(
        actor=actor or reporter or FACTORY_ACTOR,
        subject_type="user",
        subject_id=subject.pk,
        category=category,
        keywords=list(keywords),
        explanation=explanation,
        reporter=reporter,
        **kwargs,
    )


def report_message(
    message: Any, *, reporter: User, category: str = HARASSMENT, **kw: Any
) -> Report:
    return services.file_report(
        actor=reporter,
        subject_type="message",
        subject_id=message.pk,
        category=category,
        explanation="This message is abusive.",
        reporter=reporter,
        **kw,
    )


def report_thread(thread: Any, *, reporter: User, category: str = HARASSMENT, **kw: Any) -> Report:
    return services.file_report(
        actor=reporter,
        subject_type="thread",
        subject_id=thread.pk,
        category=category,
        explanation="This conversation is abusive.",
        reporter=reporter,
        **kw,
    )


def trusted_flagger(name: str = "Safer Internet Hotline", client: str = "") -> TrustedFlagger:
    return TrustedFlagger.objects.register(
        name=name, designated_by="IE", client_identity=client, actor=FACTORY_ACTOR
    )


def claimed(case: Case, moderator: User) -> Case:
    return Case.objects.claim(case, actor=moderator)


def decided(
    case: Case,
    moderator: User,
    decision_type: str,
    *,
    ground: str = "tc_harassment",
    facts: str = FACTS,
    **kwargs: Any,
) -> Decision:
    """Claim the case (a senior takes it over from another holder) and decide it through the
    service."""
    case.refresh_from_db()
    if case.claimed_by_id is not None and case.claimed_by_id != moderator.pk:
        Case.objects.take_over(case, actor=moderator, reason="Test: a senior takes over.")
    elif case.claimed_by_id != moderator.pk:
        Case.objects.claim(case, actor=moderator)
    return services.decide(
        case,
        actor=moderator,
        decision_type=decision_type,
        ground=ground if decision_type != "no_violation" else "",
        facts=facts,
        **kwargs,
    )


def decision_copies(decision: Decision, changes: Iterable[dict[str, Any]]) -> list[Decision]:
    """Unsaved copies of `decision` (its row read once), one per `changes`, each with a fresh
    public id: decisions a test writes around `decide`, to reach the database's own checks or to
    make many quickly."""
    fields = Decision.objects.filter(pk=decision.pk).values().get()
    fields.pop("id")
    return [Decision(**{**fields, "public_id": uuid.uuid4(), **change}) for change in changes]
