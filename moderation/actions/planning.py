"""A decision's plan: the moderator's input checked against the rules (ground, facts, duration,
feature, messages, target) before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accounts.models import User
from messaging.models import Message, ThreadParticipant
from safety_portal import rules
from safety_portal.core.errors import DomainError
from safety_portal.rules.decisions import DecisionType
from safety_portal.rules.grounds import GROUNDS, MINIMUM_AGE_GROUND

from ..models import (
    Case,
    SubjectType,
)
from .filing import clean_classification

if TYPE_CHECKING:
    from accounts.models import User


FACTS_MAX = rules.sor_vocabulary.DECISION_FACTS_MAX


EXPLANATION_MAX = rules.sor_vocabulary.INCOMPATIBLE_CONTENT_EXPLANATION_MAX


@dataclass
class Plan:
    """A decision's validated inputs, ready to write."""

    kind: DecisionType
    target: User | None
    ground: str
    explanation: str
    facts: str
    category: str
    keywords: list[str]
    days: int | None
    feature: str
    messages: list[Any]
    lock_thread: bool


def make_plan(
    case: Case,
    *,
    kind: DecisionType,
    facts: str,
    ground: str,
    explanation: str,
    days: int | None,
    feature: str,
    message_ids: Sequence[int],
    target_user: User | None,
    lock_thread: bool,
    category: str | None,
    keywords: Sequence[str] | None,
    require_facts: bool = True,
) -> Plan:
    """Validate a decision's inputs; every problem at once, as field errors.

    `require_facts=False` is the notice preview's: the facts are not in the notice, so a
    moderator can preview before writing them; every other rule is the decision's own.
    """
    errors: dict[str, list[str]] = {}
    facts = (facts or "").strip()
    if not facts and require_facts:
        errors["facts"] = ["State the facts the decision relies on."]
    elif len(facts) > FACTS_MAX:
        errors["facts"] = [f"At most {FACTS_MAX} characters."]
    if kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        ground = ground or MINIMUM_AGE_GROUND
    if kind is DecisionType.NO_VIOLATION:
        ground = ""
    elif ground not in GROUNDS:
        errors["ground"] = ["Choose the rule or law the decision applies."]
    explanation = (explanation or "").strip()
    if not explanation and ground in GROUNDS:
        explanation = GROUNDS[ground].explanation
    if len(explanation) > EXPLANATION_MAX:
        errors["explanation"] = [f"At most {EXPLANATION_MAX} characters."]
    if kind in rules.decisions.TIMED:
        if days is None and kind is DecisionType.SUSPEND:
            errors["days"] = ["A suspension needs a duration (termination is the open-ended one)."]
        elif days is not None and not 1 <= days <= rules.decisions.MAX_DAYS:
            errors["days"] = [f"Between 1 and {rules.decisions.MAX_DAYS} days."]
    elif days is not None:
        errors["days"] = ["Only restrictions and suspensions have a duration."]
    if kind is DecisionType.RESTRICT_FEATURE:
        if feature not in {f.value for f in rules.vocabulary.Feature}:
            errors["feature"] = ["Choose the feature to restrict."]
    elif feature:
        errors["feature"] = ["Only a feature restriction names a feature."]
    category = category or case.category
    words = list(case.keywords if keywords is None else keywords)
    try:
        category, words = clean_classification(category, words)
    except DomainError as exc:
        errors.update(exc.fields)
    target = _target(case, kind, target_user, errors)
    messages: list[Any] = []
    if kind is DecisionType.REMOVE_MESSAGES:
        messages, target = _messages(case, message_ids, errors)
    elif message_ids:
        errors["message_ids"] = ["Only a message removal names messages."]
    if lock_thread and kind is not DecisionType.REMOVE_MESSAGES:
        errors["lock_thread"] = ["A thread is locked together with a message removal."]
    if not errors:
        _check_no_personal_data(case, {"facts": facts, "explanation": explanation}, errors)
    if errors:
        raise DomainError("invalid", "The decision is incomplete or invalid.", fields=errors)
    return Plan(
        kind=kind,
        target=target,
        ground=ground,
        explanation=explanation,
        facts=facts,
        category=category,
        keywords=words,
        days=days,
        feature=feature if kind is DecisionType.RESTRICT_FEATURE else "",
        messages=messages,
        lock_thread=lock_thread,
    )


def _target(
    case: Case, kind: DecisionType, target_user: User | None, errors: dict[str, list[str]]
) -> User | None:
    if case.subject_type != SubjectType.THREAD:
        if target_user is not None and target_user.pk != case.subject_user_id:
            errors["target_user"] = ["The decision acts on the case's subject."]
        return case.subject_user
    if target_user is None:
        if kind in rules.decisions.ON_ACCOUNT:
            errors["target_user"] = ["Name the participant whose account the decision acts on."]
        return None
    if not ThreadParticipant.objects.filter(
        thread_id=case.subject_thread_id, user=target_user
    ).exists():
        errors["target_user"] = ["Only a participant of the reported thread."]
    return target_user


def _messages(
    case: Case, message_ids: Sequence[int], errors: dict[str, list[str]]
) -> tuple[list[Any], User | None]:
    """The messages a removal names: within the reported subject, all from one sender."""
    ids = {int(i) for i in message_ids}
    if case.subject_type == SubjectType.MESSAGE:
        ids.add(case.subject_message_id)
    if not ids:
        errors["message_ids"] = ["Name the messages to remove."]
        return [], None
    found = list(Message.objects.filter(pk__in=ids).select_related("sender", "thread"))
    if len(found) != len(ids):
        errors["message_ids"] = ["Some of these messages do not exist."]
        return [], None
    senders = {m.sender_id for m in found}
    if len(senders) != 1:
        errors["message_ids"] = ["Remove one sender's messages per decision."]
        return [], None
    if case.subject_type == SubjectType.USER and senders != {case.subject_user_id}:
        errors["message_ids"] = ["Only messages the reported account sent."]
    elif case.subject_type == SubjectType.MESSAGE:
        reported = next(m for m in found if m.pk == case.subject_message_id)
        if any(m.thread_id != reported.thread_id for m in found):
            errors["message_ids"] = ["Only messages of the reported message's thread."]
    elif case.subject_type == SubjectType.THREAD and any(
        m.thread_id != case.subject_thread_id for m in found
    ):
        errors["message_ids"] = ["Only messages of the reported thread."]
    return sorted(found, key=lambda m: m.pk), found[0].sender


def _involved_people(case: Case) -> list[int]:
    ids = set(case.reports.exclude(reporter=None).values_list("reporter_id", flat=True))
    if case.subject_user_id:
        ids.add(case.subject_user_id)
    thread_id = getattr(case, "subject_thread_id", None)
    if thread_id is None and getattr(case, "subject_message_id", None):
        thread_id = (
            Message.objects.filter(pk=case.subject_message_id)
            .values_list("thread_id", flat=True)
            .first()
        )
    if thread_id is not None:
        ids.update(
            ThreadParticipant.objects.filter(thread_id=thread_id).values_list("user_id", flat=True)
        )
    return list(ids)


def _check_no_personal_data(
    case: Case, texts: dict[str, str], errors: dict[str, list[str]]
) -> None:
    """The facts and explanation are published (DSA art. 24(5)): they must not name anyone."""
    values: list[str] = []
    for username, email, external_id in User.objects.filter(
        pk__in=_involved_people(case)
    ).values_list("username", "email", "external_id"):
        values.extend(v for v in (username, email, external_id) if v and len(v) >= 3)
    for name in rules.sor_schema.find_personal_data(texts, forbidden_values=values):
        errors[name] = [
            "Do not name people (usernames, e-mail addresses or ids): this text is published "
            "in the statement of reasons."
        ]


def plan_ends_at(plan: Plan, starts_at: dt.datetime) -> dt.datetime | None:
    return starts_at + dt.timedelta(days=plan.days) if plan.days else None
