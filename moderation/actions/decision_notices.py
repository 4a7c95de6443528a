"""What a decision tells the people it concerns (DSA art. 17): the notice's wording, recipient and
template, and the preview a moderator reads before deciding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils import formats, timezone

from accounts.models import User
from messaging.models import Thread
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import DomainError
from safety_portal.rules.decisions import DecisionType
from safety_portal.rules.grounds import GROUNDS

from .. import conf, notices
from ..managers import require_perm
from ..models import (
    Case,
    Decision,
    Notice,
)
from .planning import Plan, make_plan, plan_ends_at

if TYPE_CHECKING:
    from accounts.models import User

SUBJECT_WORDS = {"user": "an account", "message": "a message", "thread": "a conversation"}


FEATURE_WORDS = {
    rules.vocabulary.Feature.DIRECT_MESSAGES: "direct messages",
    rules.vocabulary.Feature.COMMENTS: "comments",
    rules.vocabulary.Feature.LIVESTREAM: "going live",
    rules.vocabulary.Feature.GIFTS: "gifts",
}


def when_words(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'j F Y')} at {local:%H:%M} ({timezone.get_current_timezone_name()})"


def notify_decision(
    decision: Decision, plan: Plan, *, reporter_ids: list[int], actor: object, at: dt.datetime
) -> None:
    """Tell the user (a notice per decision type) and the reporters (the outcome only)."""
    kind = plan.kind
    deadline = rules.decisions.appeal_deadline(kind, notified_at=at)
    target = _notice_recipient(plan)
    told_target = False
    if target is not None:
        Notice.objects.send(
            recipient=target,
            kind=Notice.Kind.DECISION,
            template=_notice_template(plan),
            context=_decision_notice_context(
                plan,
                ends_at=decision.ends_at,
                notified_at=at,
                thread_locked=decision.effects.filter(kind="thread_lock").exists(),
            ),
            actor=actor,
            case=decision.case,
            decision=decision,
        )
        told_target = True
    reporters = list(User.objects.filter(pk__in=set(reporter_ids)).order_by("pk"))
    Notice.objects.send_many(
        recipients=reporters,
        kind=Notice.Kind.REPORTER_OUTCOME,
        template="reporter_outcome",
        code="reporter_outcome."
        + ("no_violation" if kind is DecisionType.NO_VIOLATION else "action_taken"),
        context={
            "action_taken": kind is not DecisionType.NO_VIOLATION,
            "subject_kind": SUBJECT_WORDS[decision.case.subject_type],
            "can_appeal": kind is DecisionType.NO_VIOLATION,
            "appeal_deadline": when_words(deadline),
        },
        actor=actor,
        audit_target=decision,
        case=decision.case,
        decision=decision,
    )
    if told_target or (kind is DecisionType.NO_VIOLATION and reporters):
        decision.notified_at = at
        decision.appeal_deadline = deadline
        decision.save(update_fields=["notified_at", "appeal_deadline"])


def _notice_recipient(plan: Plan) -> User | None:
    """Who is told of a decision: its target, if it is an app user (staff have no birthdate)."""
    target = plan.target
    if plan.kind in {DecisionType.NO_VIOLATION, DecisionType.ESCALATE}:
        return None
    if target is None or target.birthdate is None:
        return None
    return target


def _notice_template(plan: Plan) -> str:
    return f"decision_{plan.kind.value}"


def _decision_notice_context(
    plan: Plan, *, ends_at: dt.datetime | None, notified_at: dt.datetime, thread_locked: bool
) -> dict[str, Any]:
    """The one context of a decision notice: the notice sent and its preview both come from it."""
    kind = plan.kind
    return {
        "ground_label": GROUNDS[plan.ground].label,
        "explanation": plan.explanation,
        "ends_at": when_words(ends_at),
        "feature_label": FEATURE_WORDS.get(plan.feature, plan.feature),
        "message_count": len(plan.messages),
        "thread_locked": thread_locked,
        "appeal_deadline": when_words(
            rules.decisions.appeal_deadline(kind, notified_at=notified_at)
        ),
        "is_strike": kind in rules.decisions.STRIKING,
        "strike_days": conf.strike_ttl().days,
    }


def _would_lock_a_thread(plan: Plan) -> bool:
    """What `_remove_messages` will do: lock the messages' threads that are not locked yet."""
    if plan.kind is not DecisionType.REMOVE_MESSAGES or not plan.lock_thread:
        return False
    thread_ids = {m.thread_id for m in plan.messages}
    return Thread.objects.filter(pk__in=thread_ids, locked=False).exists()


def preview_decision_notice(
    case: Case,
    *,
    actor: User,
    decision_type: str,
    ground: str = "",
    explanation: str = "",
    days: int | None = None,
    feature: str = "",
    message_ids: Sequence[int] = (),
    lock_thread: bool = False,
    target_user: User | None = None,
) -> notices.Rendered | None:
    """The notice the user would receive if `decide` were called now with the same inputs.

    Side-effect free (no row, no audit entry): it validates with the decision's own rules
    (`make_plan`, except that the facts may still be empty; they are not in the notice) and renders
    the decision's own context (`_decision_notice_context`), so the moderator reads exactly what
    the user will read (issue 5, decision form; POLICY.md §6, DSA art. 17). The moderator needs
    the role to take that decision (NotPermitted otherwise). None when no notice would go to the
    subject: no violation, escalation, a thread case without a named participant, or a staff
    account.
    """
    try:
        kind = DecisionType(decision_type)
    except ValueError:
        raise DomainError(
            "invalid", "Unknown decision type.", fields={"decision_type": ["unknown"]}
        ) from None
    require_perm(
        actor, *rules.decisions.permissions_for(kind, days=days), doing=f"decide {kind.value}"
    )
    if kind in {DecisionType.NO_VIOLATION, DecisionType.ESCALATE}:
        return None
    plan = make_plan(
        case,
        kind=kind,
        facts="",
        ground=ground,
        explanation=explanation,
        days=days,
        feature=feature,
        message_ids=message_ids,
        target_user=target_user,
        lock_thread=lock_thread,
        category=None,
        keywords=None,
        require_facts=False,
    )
    recipient = _notice_recipient(plan)
    if recipient is None:
        return None
    now = clock.now()
    return notices.render(
        _notice_template(plan),
        recipient=recipient,
        context=_decision_notice_context(
            plan,
            ends_at=plan_ends_at(plan, now),
            notified_at=now,
            thread_locked=_would_lock_a_thread(plan),
        ),
    )
