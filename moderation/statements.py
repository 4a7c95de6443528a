"""Statements of reasons: build one for every restricting decision (DSA art. 17, art. 24(5)).

POLICY.md §6: every restriction (content removed, feature restricted, account suspended or
terminated, account paused for an age check) produces a statement in the Transparency Database
schema, with no personal data, a stable `puid`, and the end date of a temporary restriction.

`build` is pure: it turns `StatementFacts` into the wire dictionary. `facts_of` gathers those facts
from a decision and its case. `create_for` stores the statement in the decision's transaction and
refuses (a programming error, not user input) one the schema validator would reject.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from messaging.models import Message
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.rules.decisions import RESTRICTING, DecisionType
from safety_portal.rules.grounds import GROUNDS, Ground

from .models import Decision, DecisionEffect, StatementOfReasons

ACCOUNT_CONTENT = "User account and its activity"
# Which notice we count as the source when a case gathered several (art. 22 first).
SOURCE_RANK = (
    rules.sor_vocabulary.SourceType.TRUSTED_FLAGGER,
    rules.sor_vocabulary.SourceType.ARTICLE_16,
    rules.sor_vocabulary.SourceType.OTHER_NOTIFICATION,
    rules.sor_vocabulary.SourceType.VOLUNTARY,
)


@dataclass(frozen=True)
class StatementFacts:
    puid: str
    decision_type: DecisionType
    ground: Ground
    explanation: str
    facts: str
    category: str
    keywords: tuple[str, ...]
    content_is_message: bool
    content_date: dt.date
    application_date: dt.date
    ends_on: dt.date | None
    source_type: str
    source_identity: str
    automated_detection: bool
    thread_locked: bool = False


def puid_for(decision: Decision) -> str:
    """Stable and unique, made of the decision's random public id: it reveals no person and no
    internal sequence, and the same decision always gets the same puid."""
    return f"sp-decision-{decision.public_id}"


def build(facts: StatementFacts) -> dict[str, Any]:
    """The statement of reasons for one restricting decision, as the schema's wire dictionary."""
    if facts.decision_type not in RESTRICTING:
        raise ValueError(f"{facts.decision_type} restricts nothing and has no statement")
    ends = facts.ends_on.isoformat() if facts.ends_on else None
    statement: dict[str, Any] = {"decision_ground": facts.ground.kind.value}
    if facts.ground.kind is rules.sor_vocabulary.DecisionGround.ILLEGAL_CONTENT:
        statement["illegal_content_legal_ground"] = facts.ground.reference
        statement["illegal_content_explanation"] = facts.explanation
    else:
        statement["incompatible_content_ground"] = facts.ground.reference
        statement["incompatible_content_explanation"] = facts.explanation

    kind = facts.decision_type
    if kind is DecisionType.REMOVE_MESSAGES:
        visibility = [rules.sor_vocabulary.DecisionVisibility.CONTENT_REMOVED.value]
        if facts.thread_locked:
            visibility.append(
                rules.sor_vocabulary.DecisionVisibility.CONTENT_INTERACTION_RESTRICTED.value
            )
        statement["decision_visibility"] = visibility
    elif kind is DecisionType.RESTRICT_FEATURE:
        statement["decision_provision"] = (
            rules.sor_vocabulary.DecisionProvision.PARTIAL_SUSPENSION.value
        )
        if ends:
            statement["end_date_service_restriction"] = ends
    elif kind is DecisionType.SUSPEND:
        statement["decision_account"] = rules.sor_vocabulary.DecisionAccount.SUSPENDED.value
        statement["end_date_account_restriction"] = ends
    elif kind is DecisionType.TERMINATE:
        statement["decision_account"] = rules.sor_vocabulary.DecisionAccount.TERMINATED.value
    elif kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        # Paused until the holder's age is confirmed: a suspension without an end date.
        statement["decision_account"] = rules.sor_vocabulary.DecisionAccount.SUSPENDED.value
    statement["account_type"] = rules.sor_vocabulary.AccountType.PRIVATE.value

    if facts.content_is_message:
        statement["content_type"] = [rules.sor_vocabulary.ContentType.TEXT.value]
    else:
        statement["content_type"] = [rules.sor_vocabulary.ContentType.OTHER.value]
        statement["content_type_other"] = ACCOUNT_CONTENT

    keywords = list(facts.keywords)
    category = facts.category
    if kind is DecisionType.REQUIRE_AGE_VERIFICATION:
        category = rules.sor_vocabulary.Category.PROTECTION_OF_MINORS.value
        if (
            rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS.value
            not in keywords
        ):
            keywords.append(
                rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS.value
            )
    statement["category"] = category
    keywords = sorted(k for k in set(keywords) if k != rules.sor_vocabulary.CategoryKeyword.OTHER)
    if keywords:
        statement["category_specification"] = keywords

    statement["decision_facts"] = facts.facts
    statement["territorial_scope"] = sorted(rules.sor_vocabulary.EU_EEA_COUNTRIES)
    statement["content_date"] = max(
        facts.content_date, rules.sor_vocabulary.CONTENT_DATE_MIN
    ).isoformat()
    statement["application_date"] = facts.application_date.isoformat()
    statement["source_type"] = facts.source_type
    if facts.source_type != rules.sor_vocabulary.SourceType.VOLUNTARY and facts.source_identity:
        statement["source_identity"] = facts.source_identity[
            : rules.sor_vocabulary.SOURCE_IDENTITY_MAX
        ]
    statement["automated_detection"] = (
        rules.sor_vocabulary.AutomatedDetection.YES.value
        if facts.automated_detection
        else rules.sor_vocabulary.AutomatedDetection.NO.value
    )
    # Every decision here is taken by a person (the queue), whatever detected the content.
    statement["automated_decision"] = rules.sor_vocabulary.AutomatedDecision.NOT_AUTOMATED.value
    statement["puid"] = facts.puid
    return statement


def _utc_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def facts_of(decision: Decision, *, thread_locked: bool = False) -> StatementFacts:
    """Gather what the statement says from the decision and its case's reports.

    Only non-personal values are read: the category, the source kinds, a trusted flagger's or an
    integration's name (organisations, not people). A person who reported is never named (art.
    24(5)); that is why an art. 16 notice carries no `source_identity`.
    """
    case = decision.case
    reports = list(
        case.reports.order_by("created_at").values(
            "source_type", "reporter_kind", "reporter_label", "trusted_flagger__name", "created_at"
        )
    )
    sources = {r["source_type"] for r in reports} or {
        rules.sor_vocabulary.SourceType.VOLUNTARY.value
    }
    source = next(s.value for s in SOURCE_RANK if s.value in sources)
    identity = ""
    for row in reports:
        if row["source_type"] != source:
            continue
        if row["reporter_kind"] == "trusted_flagger":
            identity = row["trusted_flagger__name"] or ""
        elif row["reporter_kind"] == "integration":
            identity = row["reporter_label"]
        if identity:
            break
    content_date = (
        _utc_date(reports[0]["created_at"]) if reports else _utc_date(decision.decided_at)
    )
    message_date = _message_date(decision)
    if message_date is not None:
        content_date = message_date
    return StatementFacts(
        puid=puid_for(decision),
        decision_type=DecisionType(decision.type),
        ground=GROUNDS[decision.ground],
        explanation=decision.explanation,
        facts=decision.facts,
        category=decision.category,
        keywords=tuple(decision.keywords),
        content_is_message=case.subject_type in ("message", "thread")
        or decision.type == DecisionType.REMOVE_MESSAGES,
        content_date=content_date,
        application_date=_utc_date(decision.decided_at),
        ends_on=_utc_date(decision.ends_at) if decision.ends_at else None,
        source_type=source,
        source_identity=identity,
        automated_detection=any(
            r["reporter_kind"] in ("integration", "automated") for r in reports
        ),
        thread_locked=thread_locked,
    )


def _message_date(decision: Decision) -> dt.date | None:
    """The content date of a message decision: the (earliest) message concerned."""
    ids = list(
        decision.effects.filter(kind=DecisionEffect.Kind.MESSAGE_STATE).values_list(
            "object_id", flat=True
        )
    )
    message_id = getattr(decision.case, "subject_message_id", None)
    if message_id is not None:
        ids.append(message_id)
    if not ids:
        return None
    first = (
        Message.objects.filter(pk__in=ids)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if first is None else _utc_date(first)


def create_for(
    decision: Decision, *, actor: object, thread_locked: bool = False
) -> StatementOfReasons:
    """Build, validate and store the decision's statement, in the decision's transaction."""
    payload = build(facts_of(decision, thread_locked=thread_locked))
    errors = rules.sor_schema.validate_statement(payload)
    if errors:
        # Our builder produced something the Commission would refuse: a bug, never user input.
        raise ValueError(f"statement for decision {decision.pk} is invalid: {errors}")
    with transaction.atomic():
        statement = StatementOfReasons.objects.create(
            decision=decision, puid=payload["puid"], payload=payload, created_at=clock.now()
        )
        audit.record(
            actor=actor,
            action="moderation.statement.created",
            target=statement,
            after={"decision": decision.pk, "puid": statement.puid},
        )
    return statement


def parse_since(value: str) -> dt.datetime:
    """`YYYY-MM-DD` (midnight in the portal's time zone) or an ISO 8601 date-time with offset."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return clock.start_of(day)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def batches(since: dt.datetime, *, size: int = rules.sor_vocabulary.BATCH_MAX_STATEMENTS) -> Any:
    """Stored statements created at or after `since`, as `{"statements": [...]}` batches of at
    most 100 (the Commission's multiple-statement limit), in creation order, read by keyset so
    memory stays flat however many there are."""
    if not 1 <= size <= rules.sor_vocabulary.BATCH_MAX_STATEMENTS:
        raise ValueError(
            f"a batch holds 1 to {rules.sor_vocabulary.BATCH_MAX_STATEMENTS} statements"
        )
    last: tuple[dt.datetime, int] | None = None
    base = StatementOfReasons.objects.since(since)
    while True:
        qs = base
        if last is not None:
            qs = qs.filter(created_at__gte=last[0]).exclude(created_at=last[0], id__lte=last[1])
        rows = list(qs.values_list("created_at", "id", "payload")[:size])
        if not rows:
            return
        last = (rows[-1][0], rows[-1][1])
        yield {"statements": [payload for _, _, payload in rows]}
