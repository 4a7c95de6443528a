"""Filing a report: the report, its case (joined or opened), the priority, an age flag, the audit entries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock, combined_writes
from safety_portal.core.audit.actors import identify
from safety_portal.core.audit.writer import chain_is_deferred, entry_part
from safety_portal.core.errors import DomainError

from .. import events
from ..managers import EXPLANATION_MAX, inputs_of
from ..models import Case, Flag, Report, ReporterStanding, TrustedFlagger
from ..subjects import resolve_subject, subject_pk, user_subject
from . import intake

if TYPE_CHECKING:
    from accounts.models import User


# The vocabulary's values as sets, built once (iterating an enum on every report cost more than
# the rest of the classification).
_CATEGORIES = frozenset(c.value for c in rules.sor_vocabulary.Category)
_KEYWORDS = frozenset(k.value for k in rules.sor_vocabulary.CategoryKeyword)
_SOURCE_TYPES = frozenset(s.value for s in rules.sor_vocabulary.SourceType)


def clean_classification(category: str, keywords: Iterable[str]) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if category in rules.sor_vocabulary.WITHDRAWN_CATEGORIES:
        errors["category"] = [f"{category} was withdrawn on 1 July 2025."]
    elif category not in _CATEGORIES:
        errors["category"] = [f"{category!r} is not a DSA statement category."]
    clean: list[str] = []
    allowed = _KEYWORDS
    for word in keywords or ():
        if word in rules.sor_vocabulary.WITHDRAWN_KEYWORDS:
            errors.setdefault("keywords", []).append(f"{word} was withdrawn on 1 July 2025.")
        elif word not in allowed:
            errors.setdefault("keywords", []).append(f"{word!r} is not a DSA keyword.")
        elif word not in clean:
            clean.append(word)
    if errors:
        raise DomainError("invalid", "The report's classification is invalid.", fields=errors)
    return category, sorted(clean)


def _age_signal_in(category: str, keywords: Iterable[str]) -> bool:
    return (
        category == rules.sor_vocabulary.Category.PROTECTION_OF_MINORS
        and rules.sor_vocabulary.CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS in set(keywords)
    )


# What filing a report changes on its case (a narrow UPDATE: the claim and status columns are
# other writers' and stay as they are).
_INTAKE_CASE_FIELDS = [
    "report_count",
    "severity",
    "category",
    "keywords",
    "involves_minor",
    "trusted_flagger",
    "automated",
    "reporter_count",
    "low_credibility",
    "priority_score",
    "priority",
    "due_at",
]


def file_report(
    *,
    actor: object,
    subject_type: str,
    subject_id: object,
    category: str,
    keywords: Iterable[str] = (),
    explanation: str = "",
    source_type: str | None = None,
    reporter: User | None = None,
    trusted_flagger: TrustedFlagger | None = None,
    rule: str = "",
    evidence: Mapping[str, Any] | None = None,
    suspected_under_age: bool = False,
    raise_age_flag: bool = True,
    before_audit: Callable[[Report], Iterable[models.Model] | None] | None = None,
) -> Report:
    """File a report and join it to the open case on its subject (opening one if needed).

    POLICY.md §6 / DSA art. 16: records reporter, subject, category, explanation and source.
    Who reported decides the kind: an app user (art. 16 notice), a trusted flagger (art. 22;
    named directly or found from the API client acting), an automated rule (`rule`, own
    initiative), an integration (an API client without a user), or nobody — allowed only for
    child sexual abuse (art. 16(2)(c)). The case's priority is re-assessed with
    `rules.priority.assess`; an age signal in the report ("may be under the minimum age":
    `suspected_under_age`, or category protection of minors with the keyword
    KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS) raises an age flag (POLICY.md §4) unless
    `raise_age_flag` is False (a flag being confirmed files its own report).

    `before_audit(report)` runs inside the transaction, for the caller's own rows that must
    commit with the report (the API's idempotency record): it may write them itself once the
    report and the case are written, or return them unsaved, and they are written with the
    report (on PostgreSQL in the same statement, D27). With the inline audit chain the audit
    entries are the transaction's last writes: the first one takes the chain's lock, held until
    commit (docs/decisions.md D3), so nothing else is written after it; the event
    `report_filed` is sent before them, as every domain event is (`events.py`).

    Cost (issue 6's hot path, a report joining an open case on a user): one statement reads
    the subject's birthdate, locks the case, tells whether this reporter reported it before
    and is marked (DSA art. 23) and takes the report's id; then, on PostgreSQL, one statement
    writes the report, the case, the caller's rows and (deferred chain) the audit entries
    (D27). When `before_audit` writes its rows itself they must not depend on the report's
    row existing before the commit.
    """
    category, words = clean_classification(category, keywords)
    errors: dict[str, list[str]] = {}
    if len(explanation) > EXPLANATION_MAX:
        errors["explanation"] = [f"At most {EXPLANATION_MAX} characters."]
    kind, source, flagger, label = _reporter_kind(
        actor=actor,
        source_type=source_type,
        reporter=reporter,
        trusted_flagger=trusted_flagger,
        rule=rule,
        category=category,
        keywords=words,
        errors=errors,
    )
    if errors:
        raise DomainError("invalid", "The report is invalid.", fields=errors)
    pk = subject_pk(subject_type, subject_id)
    if reporter is not None and subject_type == "user" and pk == reporter.pk:
        raise DomainError(
            "invalid", "Nobody reports their own account.", fields={"subject_id": ["self"]}
        )
    # A message's or thread's participants are read first; a user subject's birthdate is read
    # by the statement that locks its open case (or, when there is none, just before one is
    # opened).
    subject = None if subject_type == "user" else resolve_subject(subject_type, pk)
    now = clock.now()
    today = clock.today()
    severity = rules.priority.severity_of(category, words)
    reported = _reported_by(kind, reporter, flagger, label)
    with transaction.atomic():
        case = intake.locked_for_intake(
            subject.key if subject else f"user:{pk}",
            reported=reported,
            reporter_id=reporter.pk if reporter is not None else None,
        )
        if case is not None:
            opened = False
            if subject is None:
                subject = user_subject(pk, case.intake_subject_born)
            low_cred = bool(case.intake_reporter_marked)
            if case.intake_seen_report_count == case.report_count:
                new_reporter = not case.intake_already_reported
            else:
                # Another report joined while this one waited for the lock: the statement's
                # snapshot predates it, so ask again (a new statement sees it).
                new_reporter = not _has_reported(case, reported)
        else:
            if subject is None:
                subject = resolve_subject("user", pk)
            low_cred = reporter is not None and ReporterStanding.objects.is_marked(reporter.pk)
            case, opened = intake.open_new_for_subject(
                subject, category=category, severity=severity, now=now
            )
            new_reporter = opened or not _has_reported(case, reported)
        births = [*subject.involved.values(), reporter.birthdate if reporter else None]
        minor = bool(set(words) & rules.priority.CHILD_ABUSE_KEYWORDS) or any(
            born is not None and rules.ages.is_minor(born, today) for born in births
        )
        report = Report(
            case=case,
            reporter_kind=kind,
            reporter=reporter,
            trusted_flagger=flagger,
            reporter_label=label,
            low_credibility=low_cred,
            subject_type=subject.type,
            subject_user_id=subject.user_id,
            subject_message_id=subject.message_id,
            subject_thread_id=subject.thread_id,
            category=category,
            keywords=words,
            explanation=explanation,
            source_type=source,
            suspected_under_age=suspected_under_age or _age_signal_in(category, words),
            evidence=dict(evidence or {}),
            created_at=now,
        )
        before = (case.priority_score, case.priority)
        read = [getattr(case, name) for name in _INTAKE_CASE_FIELDS]
        case.report_count += 1
        if severity > case.severity:
            case.severity, case.category = int(severity), category
        case.keywords = sorted(set(case.keywords) | set(words))
        case.involves_minor = case.involves_minor or minor
        case.trusted_flagger = case.trusted_flagger or flagger is not None
        case.automated = case.automated or kind in ("integration", "automated")
        if new_reporter and not low_cred:
            case.reporter_count += 1
        case.low_credibility = low_cred if opened else (case.low_credibility and low_cred)
        assessment = rules.priority.assess(
            inputs_of(case),
            opened_at=case.opened_at,
            current_due_at=None if opened else case.due_at,
        )
        case.priority_score, case.priority = assessment.score, int(assessment.band)
        case.due_at = assessment.due_at
        flag_it = raise_age_flag and report.suspected_under_age and subject.user_id is not None
        entries: list[dict[str, Any]] = [
            {
                "actor": actor,
                "action": "moderation.report.filed",
                "target": report,
                "after": {
                    "case": case.pk,
                    "case_opened": opened,
                    "subject": subject.key,
                    "category": category,
                    "keywords": words,
                    "reporter_kind": kind,
                    "source_type": source,
                    "low_credibility": low_cred,
                },
            }
        ]
        if not opened and (case.priority_score, case.priority) != before:
            entries.append(
                {
                    "actor": actor,
                    "action": "moderation.case.priority_raised",
                    "target": case,
                    "before": {"score": before[0], "band": before[1]},
                    "after": {
                        "score": case.priority_score,
                        "band": case.priority,
                        "terms": dict(assessment.terms),
                    },
                }
            )
        report_id = getattr(case, "intake_report_id", None)
        if report_id is not None and not opened and one_statement_available():
            # PostgreSQL, a report joining its subject's open case (the hot path, D27).
            report.pk = report_id
            changed = [
                name
                for name, was in zip(_INTAKE_CASE_FIELDS, read, strict=True)
                if getattr(case, name) != was
            ]
            _write_in_one_statement(report, case, changed, before_audit, entries, flag_it, actor)
        else:
            _write_one_by_one(report, case, opened, before_audit, entries, flag_it, actor)
    return report


def _write_in_one_statement(
    report: Report,
    case: Case,
    changed: list[str],
    before_audit: Callable[[Report], Iterable[models.Model] | None] | None,
    entries: list[dict[str, Any]],
    flag_it: bool,
    actor: object,
) -> None:
    """The report, the case's changed columns, the caller's rows and, with the deferred chain,
    the audit entries in one statement: the same rows as `_write_one_by_one` writes
    (tests/moderation/test_filing_one_statement.py holds the two side by side). Only the
    columns that changed are set (the count always does): the row is the same, and a statement
    of at most 50 values is one psycopg parses once and caches."""
    parts = [
        combined_writes.insert(report, with_pk=True),
        combined_writes.update(case, changed),
    ]
    parts += [combined_writes.insert(row) for row in _callers_rows(before_audit, report)]
    folded = not flag_it and chain_is_deferred()
    if folded:
        parts += [entry_part(**entry) for entry in entries]
    combined_writes.write(parts)
    # A joined case's event (no receiver writes for it today) comes after the rows it names
    # exist; with the deferred chain the entries hold no lock, so their place among the writes
    # does not matter (D23). With the inline chain they follow every other write, as below.
    events.report_filed.send(
        sender=Report, report=report, case=case, case_opened=False, actor=actor
    )
    if flag_it:
        _raise_age_flag(report, case, actor)
    if not folded:
        for entry in entries:
            audit.record(**entry)


def _write_one_by_one(
    report: Report,
    case: Case,
    opened: bool,
    before_audit: Callable[[Report], Iterable[models.Model] | None] | None,
    entries: list[dict[str, Any]],
    flag_it: bool,
    actor: object,
) -> None:
    report.save(force_insert=True)
    case.save(update_fields=_INTAKE_CASE_FIELDS)
    # Every other write comes before the audit entries (see the docstring): the event's
    # receivers (webhook deliveries and their outbox rows), the caller's rows, the age flag
    # (whose own audit entry is then the first of the entries).
    events.report_filed.send(
        sender=Report, report=report, case=case, case_opened=opened, actor=actor
    )
    for row in _callers_rows(before_audit, report):
        row.save(force_insert=True)
    if flag_it:
        _raise_age_flag(report, case, actor)
    for entry in entries:
        audit.record(**entry)


def one_statement_available() -> bool:
    """Whether filing may write its rows as one statement (PostgreSQL's data-modifying CTEs);
    the SQLite demo writes them one by one. A function so that the tests can run both paths."""
    return connection.vendor == "postgresql"


def _callers_rows(
    before_audit: Callable[[Report], Iterable[models.Model] | None] | None, report: Report
) -> list[models.Model]:
    if before_audit is None:
        return []
    rows = list(before_audit(report) or ())
    for row in rows:
        if not row._state.adding:
            raise RuntimeError(f"before_audit returned {row!r}, which is already saved.")
    return rows


def _raise_age_flag(report: Report, case: Case, actor: object) -> None:
    Flag.objects.raise_signal(
        user_id=report.subject_user_id,
        kind="age",
        signal={"source": "report", "report": report.pk, "reporter_kind": report.reporter_kind},
        case=case,
        actor=actor,
    )


def _reported_by(
    kind: str, reporter: User | None, flagger: TrustedFlagger | None, label: str
) -> dict[str, Any]:
    """What identifies this reporter's earlier reports (Report field names to values):
    people and flaggers by identity, anonymous reports as one reporter, integrations and
    rules by their name."""
    if kind == "user":
        return {"reporter": reporter}
    if kind == "trusted_flagger":
        return {"trusted_flagger": flagger}
    if kind == "anonymous":
        return {"reporter_kind": "anonymous"}
    return {"reporter_kind": kind, "reporter_label": label}


def _has_reported(case: Case, reported: Mapping[str, Any]) -> bool:
    return case.reports.filter(**reported).exists()


def _reporter_kind(
    *,
    actor: object,
    source_type: str | None,
    reporter: User | None,
    trusted_flagger: TrustedFlagger | None,
    rule: str,
    category: str,
    keywords: list[str],
    errors: dict[str, list[str]],
) -> tuple[str, str, TrustedFlagger | None, str]:
    S = rules.sor_vocabulary.SourceType
    if source_type is not None and source_type not in _SOURCE_TYPES:
        errors["source_type"] = [f"{source_type!r} is not a DSA source type."]
        return "", "", None, ""
    if trusted_flagger is not None or source_type == S.TRUSTED_FLAGGER:
        flagger = trusted_flagger or TrustedFlagger.objects.for_actor(actor)
        if flagger is None or not flagger.active:
            errors["source_type"] = ["Only an active trusted flagger files as one."]
        if reporter is not None:
            errors["reporter"] = ["A trusted flagger's report names the organisation."]
        return "trusted_flagger", S.TRUSTED_FLAGGER, flagger, ""
    if reporter is not None:
        if source_type not in (None, S.ARTICLE_16):
            errors["source_type"] = ["A user's report is a notice (SOURCE_ARTICLE_16)."]
        return "user", S.ARTICLE_16, None, ""
    who = identify(actor)
    if rule or source_type == S.VOLUNTARY:
        return "automated", S.VOLUNTARY, None, (rule or who.label)[:150]
    if source_type == S.OTHER_NOTIFICATION or (source_type is None and who.kind == "api_client"):
        return "integration", S.OTHER_NOTIFICATION, None, who.label[:150]
    if not rules.decisions.anonymous_report_allowed(category, set(keywords)):
        errors["reporter"] = [
            "A report needs a reporter unless it concerns child sexual abuse (DSA art. 16(2)(c))."
        ]
    return "anonymous", S.ARTICLE_16, None, ""
