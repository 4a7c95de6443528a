"""Moderation use cases that span several models: decide a case, appeal, review a flag, tidy up.

Each takes the acting person keyword-only with no default, checks permissions and rules first, and
does every write — the decision, its effects through the owning managers, the strike, the
statement of reasons, the notices and the audit entries — in one transaction (STYLE.md ideas 2-4,
7). POLICY.md §4 and §6; DSA arts. 17, 20, 23, 24(5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation
from safety_portal.rules.decisions import DecisionType
from safety_portal.rules.grounds import GROUNDS, MINIMUM_AGE_GROUND

from . import conf, events, notices, statements
from .managers import OPEN, require_perm
from .models import (
    Appeal,
    Case,
    Decision,
    DecisionEffect,
    Flag,
    Notice,
    Report,
    ReporterStanding,
    Restriction,
    Strike,
    SubjectType,
)

if TYPE_CHECKING:
    from accounts.models import User

FACTS_MAX = rules.sor_vocabulary.DECISION_FACTS_MAX
EXPLANATION_MAX = rules.sor_vocabulary.INCOMPATIBLE_CONTENT_EXPLANATION_MAX
SUBJECT_WORDS = {"user": "an account", "message": "a message", "thread": "a conversation"}
FEATURE_WORDS = {
    rules.vocabulary.Feature.DIRECT_MESSAGES: "direct messages",
    rules.vocabulary.Feature.COMMENTS: "comments",
    rules.vocabulary.Feature.LIVESTREAM: "going live",
    rules.vocabulary.Feature.GIFTS: "gifts",
}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'j F Y')} at {local:%H:%M} ({timezone.get_current_timezone_name()})"


# ------------------------------------------------------------------------------------------------
# Deciding a case
# ------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
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


def decide(
    case: Case,
    *,
    moderator: User,
    decision_type: str,
    facts: str,
    ground: str = "",
    explanation: str = "",
    days: int | None = None,
    feature: str = "",
    message_ids: Sequence[int] = (),
    target_user: User | None = None,
    lock_thread: bool = False,
    category: str | None = None,
    keywords: Sequence[str] | None = None,
    via: object | None = None,
) -> Decision:
    """Take a decision on a case the moderator holds, with every effect in one transaction.

    Issue 4 / POLICY.md §6: only the claimer (or a senior who took the case over) decides; the
    decision records ground, facts, moderator and case; its effects go through the owning
    managers (a restriction, `User.objects.change_status`, `Message.objects.set_moderation_state`,
    `Thread.objects.lock`) and are written to the effect ledger an appeal reverses; an upheld
    violation adds a strike (crossing the threshold only proposes escalation); a restricting
    decision stores its statement of reasons (art. 17); the user and the reporters are told.
    Moderators decide up to 30 days; longer, termination and under-age decisions need seniors.

    `via` is the API client the moderator acted through (issue 6): the audit entries then name
    the client as the actor and the moderator in the decision's own entry; the permission and
    claim checks are always the moderator's.
    """
    actor = via if via is not None else moderator
    try:
        kind = DecisionType(decision_type)
    except ValueError:
        raise DomainError(
            "invalid", "Unknown decision type.", fields={"decision_type": ["unknown"]}
        ) from None
    require_perm(
        moderator, *rules.decisions.permissions_for(kind, days=days), doing=f"decide {kind.value}"
    )
    if kind is DecisionType.ESCALATE:
        return _escalate(case, moderator=moderator, facts=facts, actor=actor)
    plan = _plan(
        case,
        kind=kind,
        facts=facts,
        ground=ground,
        explanation=explanation,
        days=days,
        feature=feature,
        message_ids=message_ids,
        target_user=target_user,
        lock_thread=lock_thread,
        category=category,
        keywords=keywords,
    )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        Case.objects.check_open(locked)
        if locked.status == "escalated":
            require_perm(
                moderator, rules.decisions.PERM_SENIOR_QUEUE, doing="decide escalated cases"
            )
        Case.objects.check_holder(locked, moderator)
        now = clock.now()
        decision = Decision.objects.create(
            case=locked,
            type=kind.value,
            target_user=plan.target,
            decided_by=moderator,
            ground=plan.ground,
            category=plan.category,
            keywords=plan.keywords,
            explanation=plan.explanation,
            facts=plan.facts,
            feature=plan.feature,
            starts_at=now,
            ends_at=_ends_at(plan, now),
            decided_at=now,
        )
        thread_locked = _apply_effects(decision, plan, actor=actor)
        proposal = _strike(decision, plan, actor=actor)
        reporter_ids = _settle_reports(locked, upheld=kind is not DecisionType.NO_VIOLATION)
        ReporterStanding.objects.record_outcomes(
            reporter_ids, upheld=kind is not DecisionType.NO_VIOLATION, actor=actor
        )
        locked.status = "decided"
        locked.decided_at = now
        locked.claimed_by, locked.claimed_at, locked.claim_expires_at = None, None, None
        locked.save(
            update_fields=["status", "decided_at", "claimed_by", "claimed_at", "claim_expires_at"]
        )
        statement = None
        if kind in rules.decisions.RESTRICTING:
            statement = statements.create_for(decision, actor=actor, thread_locked=thread_locked)
        _notify_decision(decision, plan, reporter_ids=reporter_ids, actor=actor, at=now)
        audit.record(
            actor=actor,
            action="moderation.decision.taken",
            target=decision,
            reason=plan.facts[:500],
            before={"case_status": case.status},
            after={
                "type": kind.value,
                "moderator": moderator.pk,
                "case": locked.pk,
                "target": plan.target.pk if plan.target else None,
                "ground": plan.ground,
                "category": plan.category,
                "feature": plan.feature,
                "ends_at": decision.ends_at,
                "messages": [m.pk for m in plan.messages],
                "thread_locked": thread_locked,
                "strikes_after": decision.strikes_after,
                "escalation_proposed": proposal,
                "statement": statement.puid if statement else None,
            },
        )
        events.decision_taken.send(sender=Decision, decision=decision, actor=actor)
    case.refresh_from_db()
    return decision


def _escalate(case: Case, *, moderator: User, facts: str, actor: object) -> Decision:
    facts = (facts or "").strip()
    if not facts:
        raise DomainError(
            "invalid", "Say why the case needs a senior moderator.", fields={"facts": ["required"]}
        )
    with transaction.atomic():
        locked = Case.objects.escalate(case, actor=moderator, reason=facts)
        now = clock.now()
        decision = Decision.objects.create(
            case=locked,
            type=DecisionType.ESCALATE.value,
            target_user=locked.subject_user,
            decided_by=moderator,
            category=locked.category,
            keywords=locked.keywords,
            facts=facts,
            starts_at=now,
            decided_at=now,
        )
        events.decision_taken.send(sender=Decision, decision=decision, actor=actor)
    case.refresh_from_db()
    return decision


def _plan(
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
) -> _Plan:
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
        from .managers import _clean_classification

        category, words = _clean_classification(category, words)
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
    return _Plan(
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
    from messaging.models import ThreadParticipant

    if not ThreadParticipant.objects.filter(
        thread_id=case.subject_thread_id, user=target_user
    ).exists():
        errors["target_user"] = ["Only a participant of the reported thread."]
    return target_user


def _messages(
    case: Case, message_ids: Sequence[int], errors: dict[str, list[str]]
) -> tuple[list[Any], User | None]:
    """The messages a removal names: within the reported subject, all from one sender."""
    from messaging.models import Message

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
        from messaging.models import Message

        thread_id = (
            Message.objects.filter(pk=case.subject_message_id)
            .values_list("thread_id", flat=True)
            .first()
        )
    if thread_id is not None:
        from messaging.models import ThreadParticipant

        ids.update(
            ThreadParticipant.objects.filter(thread_id=thread_id).values_list("user_id", flat=True)
        )
    return list(ids)


def _check_no_personal_data(
    case: Case, texts: dict[str, str], errors: dict[str, list[str]]
) -> None:
    """The facts and explanation are published (DSA art. 24(5)): they must not name anyone."""
    from accounts.models import User

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


def _effect(decision: Decision, kind: str, **fields: Any) -> DecisionEffect:
    return DecisionEffect.objects.create(decision=decision, kind=kind, **fields)


# How much each status shuts an account down: a decision never loosens the status it finds (a
# suspension does not lift a ban or an age review).
_STATUS_RANK = {
    rules.vocabulary.AccountStatus.ACTIVE: 0,
    rules.vocabulary.AccountStatus.RESTRICTED: 1,
    rules.vocabulary.AccountStatus.SUSPENDED: 2,
    rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW: 3,
    rules.vocabulary.AccountStatus.BANNED: 4,
}


def _change_status(
    decision: Decision, user: User, status: str, *, actor: object, reason: str
) -> None:
    """Change the account status through the accounts manager; record it, and every thread
    messaging locks in reaction, as this decision's effects. A stricter status stays."""
    from accounts.models import User

    before_status = User.objects.filter(pk=user.pk).values_list("status", flat=True).get()
    current = _STATUS_RANK[rules.vocabulary.AccountStatus(before_status)]
    if current >= _STATUS_RANK[rules.vocabulary.AccountStatus(status)]:
        return
    before_unlocked = _unlocked_thread_ids(user)
    User.objects.change_status(user, status, actor=actor, reason=reason)
    _effect(decision, DecisionEffect.Kind.STATUS, user=user, before=before_status, after=status)
    for thread_id in _newly_locked(before_unlocked):
        _effect(decision, DecisionEffect.Kind.THREAD_LOCK, object_id=thread_id, after="locked")


def _unlocked_thread_ids(user: User) -> set[int]:
    from messaging.models import Thread

    return set(
        Thread.objects.filter(participants__user=user, locked=False).values_list("pk", flat=True)
    )


def _newly_locked(thread_ids: set[int]) -> list[int]:
    from messaging.models import Thread

    if not thread_ids:
        return []
    return sorted(
        Thread.objects.filter(pk__in=thread_ids, locked=True).values_list("pk", flat=True)
    )


def _apply_effects(decision: Decision, plan: _Plan, *, actor: object) -> bool:
    """Make the decision real; returns whether a thread was locked (for the statement)."""
    kind, target, reason = plan.kind, plan.target, f"Decision {decision.pk}: {plan.kind.value}"
    if kind is DecisionType.REMOVE_MESSAGES:
        return _remove_messages(decision, plan, actor=actor, reason=reason)
    if kind is DecisionType.RESTRICT_FEATURE:
        restriction = Restriction.objects.impose(
            user=target,
            kind=Restriction.Kind.FEATURE,
            feature=plan.feature,
            starts_at=decision.starts_at,
            ends_at=decision.ends_at,
            reason=reason,
            decision=decision,
            actor=actor,
        )
        _effect(decision, DecisionEffect.Kind.RESTRICTION, restriction=restriction, user=target)
        if plan.feature == rules.vocabulary.Feature.DIRECT_MESSAGES:
            from accounts.events import restrictions_tightened

            before = _unlocked_thread_ids(target)
            restrictions_tightened.send(sender=type(target), user=target, actor=actor)
            for thread_id in _newly_locked(before):
                _effect(
                    decision, DecisionEffect.Kind.THREAD_LOCK, object_id=thread_id, after="locked"
                )
    elif kind is DecisionType.SUSPEND:
        restriction = Restriction.objects.impose(
            user=target,
            kind=Restriction.Kind.SUSPENSION,
            starts_at=decision.starts_at,
            ends_at=decision.ends_at,
            reason=reason,
            decision=decision,
            actor=actor,
        )
        _effect(decision, DecisionEffect.Kind.RESTRICTION, restriction=restriction, user=target)
        _change_status(
            decision, target, rules.vocabulary.AccountStatus.SUSPENDED, actor=actor, reason=reason
        )
    elif kind is DecisionType.TERMINATE:
        _change_status(
            decision, target, rules.vocabulary.AccountStatus.BANNED, actor=actor, reason=reason
        )
    elif kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        _change_status(
            decision,
            target,
            rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW,
            actor=actor,
            reason=reason,
        )
    return False


def _remove_messages(decision: Decision, plan: _Plan, *, actor: object, reason: str) -> bool:
    from messaging.models import Message, Thread

    for message in plan.messages:
        before = message.moderation_state
        if before == Message.State.REMOVED:
            continue
        Message.objects.set_moderation_state(
            message, Message.State.REMOVED, actor=actor, reason=reason
        )
        _effect(
            decision,
            DecisionEffect.Kind.MESSAGE_STATE,
            object_id=message.pk,
            before=before,
            after=Message.State.REMOVED,
        )
    if not plan.lock_thread:
        return False
    locked_any = False
    for thread_id in sorted({m.thread_id for m in plan.messages}):
        thread = Thread.objects.get(pk=thread_id)
        if thread.locked:
            continue
        Thread.objects.lock(
            thread,
            reason="moderation_decision",
            actor=actor,
            source=Thread.LockSource.MODERATION,
            detail=f"decision {decision.pk}",
        )
        _effect(decision, DecisionEffect.Kind.THREAD_LOCK, object_id=thread_id, after="locked")
        locked_any = True
    return locked_any


def _strike(decision: Decision, plan: _Plan, *, actor: object) -> str | None:
    """Upheld violations add a strike; crossing the threshold proposes, never applies (issue 4)."""
    if plan.kind not in rules.decisions.STRIKING or plan.target is None:
        return None
    strike = Strike.objects.add(user=plan.target, decision=decision, actor=actor)
    _effect(decision, DecisionEffect.Kind.STRIKE, strike=strike, user=plan.target)
    active = Strike.objects.count_active(plan.target, at=strike.created_at)
    proposal = rules.decisions.strike_proposal(active, threshold=conf.strike_threshold())
    decision.strikes_after = active
    decision.escalation_proposed = proposal.value if proposal else ""
    decision.save(update_fields=["strikes_after", "escalation_proposed"])
    return decision.escalation_proposed or None


def _settle_reports(case: Case, *, upheld: bool) -> list[int]:
    """Close the case's pending reports with the outcome; returns the user reporters' ids (one
    per report, for their art. 23 standing)."""
    pending = case.reports.filter(outcome=Report.Outcome.PENDING)
    reporter_ids = list(
        pending.filter(reporter_kind="user").order_by("pk").values_list("reporter_id", flat=True)
    )
    pending.update(outcome=Report.Outcome.UPHELD if upheld else Report.Outcome.REJECTED)
    return reporter_ids


def _notify_decision(
    decision: Decision, plan: _Plan, *, reporter_ids: list[int], actor: object, at: dt.datetime
) -> None:
    """Tell the user (a notice per decision type) and the reporters (the outcome only)."""
    from accounts.models import User

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
        context={
            "action_taken": kind is not DecisionType.NO_VIOLATION,
            "subject_kind": SUBJECT_WORDS[decision.case.subject_type],
            "can_appeal": kind is DecisionType.NO_VIOLATION,
            "appeal_deadline": _when(deadline),
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


def _notice_recipient(plan: _Plan) -> User | None:
    """Who is told of a decision: its target, if it is an app user (staff have no birthdate)."""
    target = plan.target
    if plan.kind in {DecisionType.NO_VIOLATION, DecisionType.ESCALATE}:
        return None
    if target is None or target.birthdate is None:
        return None
    return target


def _notice_template(plan: _Plan) -> str:
    return f"decision_{plan.kind.value}"


def _decision_notice_context(
    plan: _Plan, *, ends_at: dt.datetime | None, notified_at: dt.datetime, thread_locked: bool
) -> dict[str, Any]:
    """The one context of a decision notice: the notice sent and its preview both come from it."""
    kind = plan.kind
    return {
        "ground_label": GROUNDS[plan.ground].label,
        "explanation": plan.explanation,
        "ends_at": _when(ends_at),
        "feature_label": FEATURE_WORDS.get(plan.feature, plan.feature),
        "message_count": len(plan.messages),
        "thread_locked": thread_locked,
        "appeal_deadline": _when(rules.decisions.appeal_deadline(kind, notified_at=notified_at)),
        "is_strike": kind in rules.decisions.STRIKING,
        "strike_days": conf.strike_ttl().days,
    }


def _would_lock_a_thread(plan: _Plan) -> bool:
    """What `_remove_messages` will do: lock the messages' threads that are not locked yet."""
    if plan.kind is not DecisionType.REMOVE_MESSAGES or not plan.lock_thread:
        return False
    from messaging.models import Thread

    thread_ids = {m.thread_id for m in plan.messages}
    return Thread.objects.filter(pk__in=thread_ids, locked=False).exists()


def preview_decision_notice(
    case: Case,
    *,
    moderator: User,
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
    (`_plan`, except that the facts may still be empty; they are not in the notice) and renders
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
        moderator, *rules.decisions.permissions_for(kind, days=days), doing=f"decide {kind.value}"
    )
    if kind in {DecisionType.NO_VIOLATION, DecisionType.ESCALATE}:
        return None
    plan = _plan(
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
            ends_at=_ends_at(plan, now),
            notified_at=now,
            thread_locked=_would_lock_a_thread(plan),
        ),
    )


def _ends_at(plan: _Plan, starts_at: dt.datetime) -> dt.datetime | None:
    return starts_at + dt.timedelta(days=plan.days) if plan.days else None


# ------------------------------------------------------------------------------------------------
# Appeals (DSA art. 20; POLICY.md §4 for under-age appeals)
# ------------------------------------------------------------------------------------------------


def file_appeal(
    decision: Decision,
    *,
    appellant: User,
    statement: str,
    actor: object,
    evidence_method: str = "",
    evidence_reference: str = "",
) -> Appeal:
    """Appeal a decision within its window; one appeal per decision.

    DSA art. 20: the affected user may appeal any decision taken on them, and a reporter may
    appeal a no-violation decision, for six months after the notice. POLICY.md §4: an under-age
    decision is appealed within 180 days with age evidence (a method stronger than
    self-declaration and a reference to the evidence, never the document).
    """
    kind = DecisionType(decision.type)
    errors: dict[str, list[str]] = {}
    statement = (statement or "").strip()
    if not statement:
        errors["statement"] = ["Say why the decision should change."]
    elif len(statement) > FACTS_MAX:
        errors["statement"] = [f"At most {FACTS_MAX} characters."]
    appeal_kind = Appeal.Kind.DECISION
    if kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        appeal_kind = Appeal.Kind.UNDER_AGE
        methods = {m.value for m in rules.vocabulary.AssuranceMethod}
        if evidence_method not in methods or evidence_method == "self_declared":
            errors["evidence_method"] = [
                "Age evidence needs a method stronger than self-declaration."
            ]
        if not evidence_reference.strip() or len(evidence_reference) > 200:
            errors["evidence_reference"] = ["A reference to the evidence (at most 200 characters)."]
    if errors:
        raise DomainError("invalid", "The appeal is incomplete.", fields=errors)
    if kind is DecisionType.ESCALATE or decision.overturned_at is not None:
        raise Conflict("not_appealable", "This decision cannot be appealed.")
    if kind is DecisionType.NO_VIOLATION:
        may = decision.case.reports.filter(reporter=appellant).exists()
    else:
        may = decision.target_user_id == appellant.pk
    if not may:
        raise NotPermitted("not_permitted", "Only the person the decision concerns may appeal it.")
    now = clock.now()
    deadline = decision.appeal_deadline or rules.decisions.appeal_deadline(
        kind, notified_at=decision.notified_at or decision.decided_at
    )
    if now > deadline:
        raise Conflict("appeal_window_closed", f"The appeal window closed on {_when(deadline)}.")
    with transaction.atomic():
        if Appeal.objects.filter(decision=decision).exists():
            raise Conflict("already_appealed", "This decision has already been appealed.")
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    decision=decision,
                    appellant=appellant,
                    kind=appeal_kind,
                    statement=statement,
                    evidence_method=evidence_method if appeal_kind == Appeal.Kind.UNDER_AGE else "",
                    evidence_reference=evidence_reference.strip()
                    if appeal_kind == Appeal.Kind.UNDER_AGE
                    else "",
                    filed_at=now,
                )
        except IntegrityError:
            raise Conflict("already_appealed", "This decision has already been appealed.") from None
        audit.record(
            actor=actor,
            action="moderation.appeal.filed",
            target=appeal,
            after={"decision": decision.pk, "kind": appeal_kind, "appellant": appellant.pk},
        )
        Notice.objects.send(
            recipient=appellant,
            kind=Notice.Kind.APPEAL_RECEIVED,
            template="appeal_received",
            context={},
            actor=actor,
            decision=decision,
            appeal=appeal,
        )
        events.appeal_filed.send(sender=Appeal, appeal=appeal, actor=actor)
    return appeal


def decide_appeal(appeal: Appeal, *, reviewer: User, overturn: bool, note: str) -> Appeal:
    """A senior moderator who did not take the decision decides the appeal (DSA art. 20(6)).

    Overturning reverses exactly the decision's recorded effects: restrictions lifted, status
    restored, messages restored, the strike removed, threads the decision locked unlocked; a
    no-violation decision overturned on a reporter's appeal sends the case back to the senior
    queue. Audited; the appellant is told.
    """
    require_perm(reviewer, rules.decisions.PERM_DECIDE_APPEAL, doing="decide appeals")
    note = (note or "").strip()
    if not note:
        raise DomainError("invalid", "A note is required.", fields={"note": ["required"]})
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        decision = locked.decision
        if locked.status != Appeal.Status.PENDING:
            raise Conflict("already_decided", "This appeal is already decided.")
        if reviewer.pk == decision.decided_by_id:
            raise NotPermitted(
                "own_decision", "An appeal is decided by someone other than the decision-maker."
            )
        if reviewer.pk == locked.appellant_id:
            raise NotPermitted("own_appeal", "Nobody decides their own appeal.")
        now = clock.now()
        changes: list[str] = []
        if overturn:
            changes = _reverse(
                decision, actor=reviewer, reason=f"Appeal {locked.pk} upheld: {note}"
            )
            decision.overturned_at = now
            decision.save(update_fields=["overturned_at"])
        locked.status = Appeal.Status.OVERTURNED if overturn else Appeal.Status.REJECTED
        locked.reviewer = reviewer
        locked.decided_at = now
        locked.reviewer_note = note
        locked.save(update_fields=["status", "reviewer", "decided_at", "reviewer_note"])
        audit.record(
            actor=reviewer,
            action="moderation.appeal.decided",
            target=locked,
            reason=note,
            before={"status": Appeal.Status.PENDING},
            after={"status": locked.status, "decision": decision.pk, "reversed": changes},
        )
        Notice.objects.send(
            recipient=locked.appellant,
            kind=Notice.Kind.APPEAL_DECIDED,
            template="appeal_decided",
            context={"overturned": overturn, "changes": _changes_sentence(changes)},
            actor=reviewer,
            decision=decision,
            appeal=locked,
        )
        events.appeal_decided.send(sender=Appeal, appeal=locked, actor=reviewer)
    appeal.refresh_from_db()
    return locked


_CHANGE_WORDS = {
    "restriction_lifted": "The restriction has been lifted.",
    "status_restored": "Your account has been restored.",
    "message_restored": "Your messages are visible again.",
    "strike_removed": "The strike has been removed.",
    "thread_unlocked": "The conversation is open again.",
}


def _changes_sentence(changes: list[str]) -> str:
    return " ".join(dict.fromkeys(_CHANGE_WORDS[c] for c in changes if c in _CHANGE_WORDS))


_REVERSAL_ORDER = [
    DecisionEffect.Kind.RESTRICTION,
    DecisionEffect.Kind.STATUS,
    DecisionEffect.Kind.MESSAGE_STATE,
    DecisionEffect.Kind.THREAD_LOCK,
    DecisionEffect.Kind.STRIKE,
]


def _reverse(decision: Decision, *, actor: User, reason: str) -> list[str]:
    """Undo a decision's recorded effects, each through the owning manager (order below)."""
    from accounts.models import User

    done: list[str] = []
    now = clock.now()
    pending = list(decision.effects.filter(reversed_at__isnull=True).select_related("user"))
    # The account first (restriction, status), then content, then threads — messaging unlocks a
    # thread only once the policy allows it again — and the strike last.
    pending.sort(key=lambda e: (_REVERSAL_ORDER.index(e.kind), e.pk))
    for effect in pending:
        kind = effect.kind
        if kind == DecisionEffect.Kind.RESTRICTION:
            Restriction.objects.lift(effect.restriction, actor=actor, reason=reason)
            done.append("restriction_lifted")
        elif kind == DecisionEffect.Kind.STATUS:
            current = User.objects.filter(pk=effect.user_id).values_list("status", flat=True).get()
            if current == effect.after:  # nobody changed it since; otherwise leave it to staff
                User.objects.change_status(effect.user, effect.before, actor=actor, reason=reason)
                done.append("status_restored")
        elif kind == DecisionEffect.Kind.MESSAGE_STATE:
            from messaging.models import Message

            message = Message.objects.get(pk=effect.object_id)
            if message.moderation_state == effect.after:
                Message.objects.set_moderation_state(
                    message, effect.before, actor=actor, reason=reason
                )
                done.append("message_restored")
        elif kind == DecisionEffect.Kind.THREAD_LOCK:
            from messaging.models import Thread

            thread = Thread.objects.get(pk=effect.object_id)
            if thread.locked:
                try:
                    with transaction.atomic():
                        Thread.objects.unlock(thread, actor=actor, reason=reason)
                    done.append("thread_unlocked")
                except PolicyViolation as refusal:
                    # Another cause still refuses the thread (POLICY.md §3): it stays locked, and
                    # the appeal's audit entry says so.
                    done.append(f"thread_kept_locked:{effect.object_id}:{refusal.code}")
        elif kind == DecisionEffect.Kind.STRIKE:
            Strike.objects.remove(effect.strike, actor=actor, reason=reason)
            done.append("strike_removed")
        effect.reversed_at = now
        effect.save(update_fields=["reversed_at"])
    if decision.type == DecisionType.NO_VIOLATION:
        _reopen(decision, actor=actor, reason=reason)
        ids = list(
            decision.case.reports.filter(reporter_kind="user", outcome=Report.Outcome.REJECTED)
            .order_by("pk")
            .values_list("reporter_id", flat=True)
        )
        ReporterStanding.objects.record_outcomes(ids, upheld=False, actor=actor, undo=True)
        decision.case.reports.filter(outcome=Report.Outcome.REJECTED).update(
            outcome=Report.Outcome.PENDING
        )
        done.append("case_reopened")
    return done


def _reopen(decision: Decision, *, actor: User, reason: str) -> None:
    """A no-violation decision overturned: the case goes back, to the senior queue."""
    case = Case.objects.select_for_update().get(pk=decision.case_id)
    other = Case.objects.open().filter(subject_key=case.subject_key).exclude(pk=case.pk).first()
    if other is not None:
        # A newer case on the same subject is open: send that one to the seniors instead.
        if other.status == "open":
            other.status, other.escalated_at = "escalated", clock.now()
            other.save(update_fields=["status", "escalated_at"])
        audit.record(
            actor=actor,
            action="moderation.case.escalated",
            target=other,
            reason=reason,
            after={"status": other.status, "reopened_from": case.pk},
        )
        return
    case.status, case.decided_at, case.escalated_at = "escalated", None, clock.now()
    case.save(update_fields=["status", "decided_at", "escalated_at"])
    audit.record(
        actor=actor, action="moderation.case.reopened", target=case, reason=reason,
        after={"status": "escalated"},
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Flags: age signals and contact-risk signals
# ------------------------------------------------------------------------------------------------

FLAG_CLASSIFICATION = {
    Flag.Kind.AGE: (
        rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
        [rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS.value],
    ),
    Flag.Kind.CONTACT_RISK: (
        rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value,
        [rules.sor_vocabulary.CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS.value],
    ),
}


def confirm_flag(flag: Flag, *, reviewer: User, note: str) -> Case:
    """Staff agree the flag needs a decision: it joins (or opens) the case on the account, with
    the flag's evidence; audited. The age is not changed (POLICY.md §4)."""
    require_perm(reviewer, rules.decisions.PERM_REVIEW_FLAG, doing="review flags")
    with transaction.atomic():
        case = _case_for_flag(flag, actor=reviewer)
        Flag.objects.confirm(flag, reviewer=reviewer, note=note, case=case)
    flag.refresh_from_db()
    return case


def request_age_verification(flag: Flag, *, reviewer: User, note: str) -> Decision:
    """From an age flag: pause the account for an age check (→ `under_age_review`), through the
    normal decision path, so it gets a statement, a notice and a 180-day appeal (POLICY.md §4)."""
    require_perm(
        reviewer,
        rules.decisions.PERM_REVIEW_FLAG,
        rules.decisions.PERM_UNDER_AGE,
        doing="require age checks",
    )
    if flag.kind != Flag.Kind.AGE:
        raise DomainError("invalid", "Only an age flag leads to an age check.")
    with transaction.atomic():
        case = confirm_flag(flag, reviewer=reviewer, note=note)
        if case.claimed_by_id not in (None, reviewer.pk) and case.claim_expires_at > clock.now():
            Case.objects.take_over(case, moderator=reviewer, reason=f"Age flag {flag.pk}: {note}")
        else:
            Case.objects.claim(case, moderator=reviewer)
        return decide(
            case,
            moderator=reviewer,
            decision_type=DecisionType.REQUIRE_AGE_VERIFICATION,
            ground=MINIMUM_AGE_GROUND,
            facts=(
                "Signals that the account holder may be below the minimum age were reviewed by "
                "staff: " + _flag_summary(flag)
            ),
        )


def _flag_summary(flag: Flag) -> str:
    sources: dict[str, int] = {}
    for signal in flag.signals:
        key = str(signal.get("source", "signal"))
        sources[key] = sources.get(key, 0) + 1
    parts = [
        f"{n} {name.replace('_', ' ')} signal{'s' if n > 1 else ''}" for name, n in sources.items()
    ]
    return ", ".join(parts) + "."


def _case_for_flag(flag: Flag, *, actor: User) -> Case:
    if flag.case_id is not None:
        case = Case.objects.get(pk=flag.case_id)
        if case.status in OPEN:
            return case
    category, keywords = FLAG_CLASSIFICATION[Flag.Kind(flag.kind)]
    report = Report.objects.file(
        actor=actor,
        subject_type="user",
        subject_id=flag.user_id,
        category=category,
        keywords=keywords,
        explanation=f"Staff confirmed {flag.get_kind_display().lower()} flag {flag.pk}.",
        rule=f"flag:{flag.kind}",
        evidence={"flag": flag.pk, "signals": flag.signals[-20:]},
        raise_age_flag=False,
    )
    return report.case


def record_age_estimate(
    *, user: User, estimated_age: float, confidence: float, actor: object, model: str = ""
) -> Flag | None:
    """An integration's age estimate: raise (or add to) an age flag when it warrants review.

    POLICY.md §4: a flag is for staff review; it never changes the age. Estimates that raise
    nothing are not stored (data minimisation).
    """
    errors: dict[str, list[str]] = {}
    if not 0 <= estimated_age <= 120:
        errors["estimated_age"] = ["Between 0 and 120."]
    if not 0 <= confidence <= 1:
        errors["confidence"] = ["Between 0 and 1."]
    if user.birthdate is None:
        errors["user"] = ["Only app users have an age to check."]
    if errors:
        raise DomainError("invalid", "The age estimate is invalid.", fields=errors)
    finding = rules.risk.assess_age_estimate(
        declared_birthdate=user.birthdate,
        country=str(user.country),
        on=clock.today(),
        estimated_age=estimated_age,
        confidence=confidence,
        min_confidence=float(conf.value("MODERATION_AGE_SIGNAL_MIN_CONFIDENCE")),
        margin_years=float(conf.value("MODERATION_AGE_SIGNAL_MARGIN_YEARS")),
    )
    if not finding.raises_flag:
        return None
    return Flag.objects.raise_signal(
        user_id=user.pk,
        kind=Flag.Kind.AGE,
        signal={
            "source": "age_estimate",
            "estimated_age": round(estimated_age, 1),
            "confidence": round(confidence, 3),
            "model": model[:100],
            "why": finding.why,
        },
        actor=actor,
    )


# ------------------------------------------------------------------------------------------------
# Jobs: idempotent services the Celery tasks call (issue 7 schedules them)
# ------------------------------------------------------------------------------------------------


def end_elapsed_restrictions(*, actor: object, at: dt.datetime, batch: int = 500) -> int:
    """Record the end of restrictions whose end time passed, tell the user, audit it.

    The restriction already stopped counting at its end time (the read side uses the times,
    docs/decisions.md D5); this only records the end, returns a suspended account's stored status
    to active when no other suspension is in force, and sends the notice once (a unique
    constraint backs "once"). Safe to run twice or concurrently.
    """
    from accounts.models import User

    done = 0
    with transaction.atomic():
        rows = list(
            Restriction.objects.ended_unrecorded(at=at)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .order_by("ends_at", "pk")[:batch]
        )
        for restriction in rows:
            restriction.end_recorded_at = at
            restriction.save(update_fields=["end_recorded_at"])
            audit.record(
                actor=actor,
                action="moderation.restriction.ended",
                target=restriction.user,
                after={"restriction": restriction.pk, "ended_at": restriction.ends_at},
            )
            user = restriction.user
            if (
                restriction.kind == Restriction.Kind.SUSPENSION
                and user.status == rules.vocabulary.AccountStatus.SUSPENDED
                and not Restriction.objects.active(at=at)
                .filter(user=user, kind=Restriction.Kind.SUSPENSION)
                .exists()
            ):
                User.objects.change_status(
                    user,
                    rules.vocabulary.AccountStatus.ACTIVE,
                    actor=actor,
                    reason="Suspension ended",
                )
            what = (
                "your account suspension"
                if restriction.kind == Restriction.Kind.SUSPENSION
                else f"the limit on {FEATURE_WORDS.get(restriction.feature, restriction.feature)}"
            )
            if user.birthdate is not None:
                Notice.objects.send(
                    recipient=user,
                    kind=Notice.Kind.RESTRICTION_ENDED,
                    template="restriction_ended",
                    context={"what": what, "ended_at": _when(restriction.ends_at)},
                    actor=actor,
                    restriction=restriction,
                )
            done += 1
    return done


def escalate_overdue_cases(*, actor: object, at: dt.datetime) -> int:
    """Raise overdue cases once and alert the senior moderators once per case (issue 7)."""
    from accounts.models import User

    with transaction.atomic():
        raised = Case.objects.escalate_overdue(actor=actor, at=at)
        if not raised:
            return 0
        seniors = list(
            User.objects.with_perm(
                rules.decisions.PERM_SENIOR_QUEUE,
                include_superusers=False,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            .filter(is_active=True, is_staff=True)
            .order_by("pk")
        )
        for case in Case.objects.filter(pk__in=raised).order_by("pk"):
            Notice.objects.send_many(
                recipients=seniors,
                kind=Notice.Kind.CASE_OVERDUE,
                template="case_overdue",
                context={
                    "case_id": case.pk,
                    "priority": case.priority,
                    "due_at": _when(case.due_at),
                    "involves_minor": case.involves_minor,
                },
                actor=actor,
                audit_target=case,
                case=case,
            )
    return len(raised)


def release_expired_claims(*, actor: object, at: dt.datetime) -> int:
    return Case.objects.release_expired_claims(actor=actor, at=at)
