"""Moderation read vocabulary and guarded writes.

Reads are small QuerySet methods with the names a moderator would say
(`Case.objects.open().unclaimed().overdue()`). Writes check the rule (`policy.py`, `priority.py`),
change the rows and write the audit entry in one transaction, with the acting person keyword-only
and never defaulted (STYLE.md ideas 2-4). POLICY.md §6; DSA arts. 16, 20, 22, 23.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError, NotPermitted

from . import conf, events

if TYPE_CHECKING:
    from accounts.models import User

    from .models import (
        Case,
        CaseNote,
        Decision,
        Flag,
        Notice,
        Report,
        Strike,
        TrustedFlagger,
    )

OPEN = ("open", "escalated")
EXPLANATION_MAX = 5000
NOTE_MAX = 5000


def require_perm(user: object, *perms: str, doing: str) -> None:
    """Refuse with NotPermitted unless `user` is an active staff member holding every permission."""
    has_perm = getattr(user, "has_perm", None)
    if (
        has_perm is None
        or not getattr(user, "is_active", False)
        or not getattr(user, "is_staff", False)
        or not all(has_perm(p) for p in perms)
    ):
        raise NotPermitted("not_permitted", f"You do not have the role needed to {doing}.")


# ------------------------------------------------------------------------------------------------
# Trusted flaggers and reporters' standing
# ------------------------------------------------------------------------------------------------


class TrustedFlaggerManager(models.Manager):
    def register(
        self, *, name: str, designated_by: str, client_identity: str = "", actor: object
    ) -> TrustedFlagger:
        """Record an organisation's trusted-flagger status (DSA art. 22), audited."""
        if not name.strip():
            raise DomainError("invalid", "A name is required.", fields={"name": ["required"]})
        with transaction.atomic():
            flagger = self.create(
                name=name.strip(),
                designated_by=designated_by.upper(),
                client_identity=client_identity,
                created_at=clock.now(),
            )
            audit.record(
                actor=actor,
                action="moderation.trusted_flagger.registered",
                target=flagger,
                after={"designated_by": flagger.designated_by, "client": client_identity},
            )
        return flagger

    def for_actor(self, actor: object) -> TrustedFlagger | None:
        """The active trusted flagger an API client files for, if any."""
        who = identify(actor)
        if who.kind != "api_client":
            return None
        return self.filter(client_identity=who.id, active=True).first()


class ReporterStandingManager(models.Manager):
    def is_marked(self, user_id: int) -> bool:
        return self.filter(reporter_id=user_id, marked_at__isnull=False).exists()

    def record_outcomes(
        self, reporter_ids: Sequence[int], *, upheld: bool, actor: object, undo: bool = False
    ) -> list[int]:
        """Count decided reports per reporter and (un)mark them under DSA art. 23.

        `undo` takes outcomes back (a no-violation decision overturned on appeal). Returns the ids
        whose mark changed. Each mark change is audited; the counts are plain bookkeeping of
        decisions that are themselves audited.
        """
        changed: list[int] = []
        if not reporter_ids:
            return changed
        now = clock.now()
        counts: dict[int, int] = {}
        for rid in reporter_ids:
            counts[rid] = counts.get(rid, 0) + 1
        with transaction.atomic():
            existing = {
                s.reporter_id: s
                for s in self.select_for_update()
                .filter(reporter_id__in=list(counts))
                .order_by("pk")
            }
            missing = [rid for rid in counts if rid not in existing]
            if missing:
                self.bulk_create(
                    [self.model(reporter_id=rid, updated_at=now) for rid in missing],
                    ignore_conflicts=True,
                )
                existing = {
                    s.reporter_id: s
                    for s in self.select_for_update().filter(reporter_id__in=list(counts))
                }
            min_rejected = int(conf.value("MODERATION_REPORTER_MARK_MIN_REJECTED"))
            ratio = float(conf.value("MODERATION_REPORTER_MARK_RATIO"))
            for rid, n in counts.items():
                standing = existing[rid]
                step = -n if undo else n
                if upheld:
                    standing.upheld = max(0, standing.upheld + step)
                else:
                    standing.rejected = max(0, standing.rejected + step)
                marked = rules.decisions.reporter_is_low_credibility(
                    upheld=standing.upheld,
                    rejected=standing.rejected,
                    min_rejected=min_rejected,
                    ratio=ratio,
                )
                was_marked = standing.marked_at is not None
                standing.updated_at = now
                if marked != was_marked:
                    standing.marked_at = now if marked else None
                    changed.append(rid)
                    audit.record(
                        actor=actor,
                        action="moderation.reporter." + ("marked" if marked else "unmarked"),
                        target=standing.reporter,
                        reason="DSA art. 23: share of rejected reports",
                        after={"upheld": standing.upheld, "rejected": standing.rejected},
                    )
                standing.save(update_fields=["upheld", "rejected", "marked_at", "updated_at"])
        return changed


# ------------------------------------------------------------------------------------------------
# Reports and cases
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    type: str
    key: str
    user_id: int | None
    message_id: int | None = None
    thread_id: int | None = None
    # Everyone the subject involves (the account; a message's or thread's participants), with
    # their birthdates, read in the same query that found the subject (None for staff).
    involved: Mapping[int, dt.date | None] = field(default_factory=dict)


SUBJECT_TYPES = ("user", "message", "thread")


def subject_pk(subject_type: str, subject_id: object) -> int:
    """The subject's id as a number, once the type is one we know; field errors otherwise."""
    try:
        pk = int(subject_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise DomainError(
            "invalid", "The subject id must be a number.", fields={"subject_id": ["not a number"]}
        ) from None
    if subject_type not in SUBJECT_TYPES:
        raise DomainError(
            "invalid",
            "The subject type must be user, message or thread.",
            fields={"subject_type": ["must be user, message or thread"]},
        )
    return pk


def _no_such_user() -> DomainError:
    return DomainError("not_found", "No such user.", fields={"subject_id": ["not found"]})


def _user_subject(pk: int, born: dt.date | None) -> Subject:
    """A user subject from its birthdate as read (None: no such app user, e.g. staff)."""
    if born is None:
        raise _no_such_user()
    return Subject("user", f"user:{pk}", pk, involved={pk: born})


def resolve_subject(subject_type: str, subject_id: object) -> Subject:
    """Find what a report is about; a missing subject is a field error (the API answers 404)."""
    from accounts.models import User

    pk = subject_pk(subject_type, subject_id)
    if subject_type == "user":
        born = (
            User.objects.filter(pk=pk, birthdate__isnull=False)
            .values_list("birthdate", flat=True)
            .first()
        )
        return _user_subject(pk, born)
    return _resolve_messaging_subject(subject_type, pk)


def _resolve_messaging_subject(subject_type: str, pk: int) -> Subject:
    from messaging.models import Message, ThreadParticipant

    if subject_type == "message":
        row = (
            Message.objects.filter(pk=pk)
            .values_list("sender_id", "sender__birthdate", "thread_id")
            .first()
        )
        if row is None:
            raise DomainError("not_found", "No such message.", fields={"subject_id": ["not found"]})
        sender_id, sender_born, thread_id = row
        others = ThreadParticipant.objects.filter(thread_id=thread_id).values_list(
            "user_id", "user__birthdate"
        )
        return Subject(
            "message",
            f"message:{pk}",
            sender_id,
            message_id=pk,
            thread_id=thread_id,
            involved={sender_id: sender_born, **dict(others)},
        )
    participants = dict(
        ThreadParticipant.objects.filter(thread_id=pk).values_list("user_id", "user__birthdate")
    )
    if not participants:
        raise DomainError("not_found", "No such thread.", fields={"subject_id": ["not found"]})
    return Subject("thread", f"thread:{pk}", None, thread_id=pk, involved=participants)


def _clean_classification(category: str, keywords: Iterable[str]) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if category in rules.sor_vocabulary.WITHDRAWN_CATEGORIES:
        errors["category"] = [f"{category} was withdrawn on 1 July 2025."]
    elif category not in {c.value for c in rules.sor_vocabulary.Category}:
        errors["category"] = [f"{category!r} is not a DSA statement category."]
    clean: list[str] = []
    allowed = {k.value for k in rules.sor_vocabulary.CategoryKeyword}
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


def inputs_of(case: Case, *, overdue: bool = False) -> rules.priority.Inputs:
    return rules.priority.Inputs(
        severity=rules.priority.Severity(case.severity),
        minor_involved=case.involves_minor,
        trusted_flagger=case.trusted_flagger,
        credible_reporters=case.reporter_count,
        low_credibility_only=case.low_credibility,
        overdue=overdue or case.overdue_escalated_at is not None,
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


class ReportManager(models.Manager):
    def file(
        self,
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
        before_audit: Callable[[Report], object] | None = None,
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

        `before_audit(report)` runs inside the transaction once the report and the case are
        written, for the caller's own rows that must commit with them (the API's idempotency
        record). The audit entries are the transaction's last writes: the first one takes the
        audit chain's lock, held until commit (docs/decisions.md D3), so nothing else is written
        after it.

        Cost (issue 6's hot path, a report joining an open case on a user): one statement reads
        the subject's birthdate, locks the case and tells whether this reporter reported it before
        and is marked (DSA art. 23); then the report, the case, the audit entry.
        """
        from .models import Case, Flag, ReporterStanding

        category, words = _clean_classification(category, keywords)
        errors: dict[str, list[str]] = {}
        if len(explanation) > EXPLANATION_MAX:
            errors["explanation"] = [f"At most {EXPLANATION_MAX} characters."]
        kind, source, flagger, label = self._reporter_kind(
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
        reported = self._reported_by(kind, reporter, flagger, label)
        with transaction.atomic():
            case = Case.objects.locked_for_intake(
                subject.key if subject else f"user:{pk}",
                reported=reported,
                reporter_id=reporter.pk if reporter is not None else None,
            )
            if case is not None:
                opened = False
                if subject is None:
                    subject = _user_subject(pk, case.intake_subject_born)
                low_cred = bool(case.intake_reporter_marked)
                if case.intake_seen_report_count == case.report_count:
                    new_reporter = not case.intake_already_reported
                else:
                    # Another report joined while this one waited for the lock: the statement's
                    # snapshot predates it, so ask again (a new statement sees it).
                    new_reporter = not self._has_reported(case, reported)
            else:
                if subject is None:
                    subject = resolve_subject("user", pk)
                low_cred = reporter is not None and ReporterStanding.objects.is_marked(reporter.pk)
                case, opened = Case.objects.open_new_for_subject(
                    subject, category=category, severity=severity, now=now
                )
                new_reporter = opened or not self._has_reported(case, reported)
            births = [*subject.involved.values(), reporter.birthdate if reporter else None]
            minor = bool(set(words) & rules.priority.CHILD_ABUSE_KEYWORDS) or any(
                born is not None and rules.ages.is_minor(born, today) for born in births
            )
            report = self.create(
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
            case.save(update_fields=_INTAKE_CASE_FIELDS)
            # Every other write comes before the audit entries (see the docstring): the event's
            # receivers (webhook deliveries and their outbox rows), the caller's rows, the age
            # flag (whose own audit entry is then the first of the entries).
            events.report_filed.send(
                sender=self.model, report=report, case=case, case_opened=opened, actor=actor
            )
            if before_audit is not None:
                before_audit(report)
            if raise_age_flag and report.suspected_under_age and subject.user_id is not None:
                Flag.objects.raise_signal(
                    user_id=subject.user_id,
                    kind="age",
                    signal={"source": "report", "report": report.pk, "reporter_kind": kind},
                    case=case,
                    actor=actor,
                )
            audit.record(
                actor=actor,
                action="moderation.report.filed",
                target=report,
                after={
                    "case": case.pk,
                    "case_opened": opened,
                    "subject": subject.key,
                    "category": category,
                    "keywords": words,
                    "reporter_kind": kind,
                    "source_type": source,
                    "low_credibility": low_cred,
                },
            )
            if not opened and (case.priority_score, case.priority) != before:
                audit.record(
                    actor=actor,
                    action="moderation.case.priority_raised",
                    target=case,
                    before={"score": before[0], "band": before[1]},
                    after={
                        "score": case.priority_score,
                        "band": case.priority,
                        "terms": dict(assessment.terms),
                    },
                )
        return report

    @staticmethod
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

    @staticmethod
    def _has_reported(case: Case, reported: Mapping[str, Any]) -> bool:
        return case.reports.filter(**reported).exists()

    @staticmethod
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
        from .models import TrustedFlagger

        S = rules.sor_vocabulary.SourceType
        if source_type is not None and source_type not in {s.value for s in S}:
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
        if source_type == S.OTHER_NOTIFICATION or (
            source_type is None and who.kind == "api_client"
        ):
            return "integration", S.OTHER_NOTIFICATION, None, who.label[:150]
        if not rules.decisions.anonymous_report_allowed(category, set(keywords)):
            errors["reporter"] = [
                "A report needs a reporter unless it concerns child sexual abuse "
                "(DSA art. 16(2)(c))."
            ]
        return "anonymous", S.ARTICLE_16, None, ""


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN)

    def decided(self) -> CaseQuerySet:
        return self.filter(status="decided")

    def unclaimed(self, *, at: dt.datetime | None = None) -> CaseQuerySet:
        """Nobody holds it: never claimed, released, or the claim went idle past its expiry."""
        at = at or clock.now()
        return self.filter(Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=at))

    def claimed_by(self, user: User, *, at: dt.datetime | None = None) -> CaseQuerySet:
        """Open cases `user` holds with a claim that has not gone idle."""
        at = at or clock.now()
        return self.open().filter(claimed_by=user, claim_expires_at__gt=at)

    def overdue(self, *, at: dt.datetime | None = None) -> CaseQuerySet:
        return self.open().filter(due_at__lte=at or clock.now())

    def involving_minors(self) -> CaseQuerySet:
        return self.filter(involves_minor=True)

    def escalated(self) -> CaseQuerySet:
        return self.filter(status="escalated")

    def with_overdue_flag(self, *, at: dt.datetime | None = None) -> CaseQuerySet:
        """Annotate `is_overdue` so lists can show overdue cases as such."""
        at = at or clock.now()
        return self.annotate(
            is_overdue=models.Case(
                models.When(Q(status__in=OPEN, due_at__lte=at), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def with_active_strikes(self, *, at: dt.datetime | None = None) -> CaseQuerySet:
        """Annotate `active_strikes`: the subject's strikes in force (the case page and the API
        show it; issue 4)."""
        from .models import Strike

        at = at or clock.now()
        strikes = (
            Strike.objects.active(at=at)
            .filter(user=models.OuterRef("subject_user"))
            .order_by()
            .values("user")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(
            active_strikes=Coalesce(models.Subquery(strikes, output_field=models.IntegerField()), 0)
        )

    def for_queue(
        self, queue: str = "all", *, moderator: User | None = None, at: dt.datetime | None = None
    ) -> CaseQuerySet:
        """Open, unclaimed cases of a queue in the order they should be taken: highest score,
        then the one due first, then the oldest id (priority.py explains the order).

        Escalated cases appear only for moderators who may handle them (senior moderators).
        """
        from .models import Case

        try:
            queue = Case.Queue(queue)
        except ValueError:
            raise DomainError(
                "invalid",
                "Unknown queue.",
                fields={"queue": ["One of: " + ", ".join(Case.Queue.values) + "."]},
            ) from None
        senior = moderator is not None and moderator.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
        qs = self.open().unclaimed(at=at)
        if queue == Case.Queue.SENIOR:
            qs = qs.filter(status="escalated")
        elif queue == Case.Queue.GENERAL or not senior:
            qs = qs.filter(status="open")
        if queue == Case.Queue.MINORS:
            qs = qs.filter(involves_minor=True)
        elif queue == Case.Queue.TRUSTED_FLAGGER:
            qs = qs.filter(trusted_flagger=True)
        return qs.order_by("-priority_score", "due_at", "id")


def _claims_need_not_wait_for_disk() -> None:
    """Let a claim's transaction commit without waiting for the WAL flush (PostgreSQL).

    A claim is a work assignment, not a decision: if the server crashes in the few hundred
    milliseconds before the flush, the claim and its audit entry are lost together (WAL is
    replayed in order, so the audit chain has no gap) and the case is simply back in the queue.
    Not waiting matters because every audited write holds the audit chain's lock until it commits
    (docs/decisions.md D3): with the disk flush inside that window, eight moderators claiming at
    once queue behind each other's fsyncs. Off by default (MODERATION_CLAIM_SYNCHRONOUS_COMMIT =
    True): on a quiet machine durable claims already meet the queue's target (bench_moderation);
    an operator whose disk is slow may set it to False. Decisions, appeals and reports always wait.
    """
    if connection.vendor == "postgresql" and not conf.value("MODERATION_CLAIM_SYNCHRONOUS_COMMIT"):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim_fields(case: Case, moderator: User, now: dt.datetime) -> None:
    case.claimed_by = moderator
    case.claimed_at = now
    case.claim_expires_at = now + conf.claim_idle()


_CLAIM_FIELDS = ["claimed_by", "claimed_at", "claim_expires_at"]


@functools.cache
def _intake_sql(vendor: str, reported: tuple[str, ...]) -> str:
    """The statement behind `CaseManager.locked_for_intake`, per database and per shape of
    "reported before" (`reported`: the Report fields compared). Written out rather than built
    with the ORM because it runs on every report: assembling it from Exists/Subquery expressions
    took Django about twice as long as PostgreSQL takes to run it (0.7 ms against 0.3 ms on the
    bench machine). Column names come from the models, so a renamed field fails here rather than
    silently."""
    from accounts.models import User

    from .models import Case, Report, ReporterStanding

    qn = connection.ops.quote_name

    def col(model: type[models.Model], name: str) -> str:
        return qn(model._meta.get_field(name).column)

    def table(model: type[models.Model]) -> str:
        return qn(model._meta.db_table)

    earlier = " AND ".join(f"r.{col(Report, name)} = %s" for name in reported)
    lock = " FOR UPDATE OF c" if vendor == "postgresql" else ""  # SQLite: IMMEDIATE transactions
    return (
        f"SELECT c.*, u.{col(User, 'birthdate')} AS intake_subject_born, "
        f"EXISTS(SELECT 1 FROM {table(Report)} r WHERE r.{col(Report, 'case')} = c.{col(Case, 'id')}"
        f" AND {earlier}) AS intake_already_reported, "
        f"EXISTS(SELECT 1 FROM {table(ReporterStanding)} m"
        f" WHERE m.{col(ReporterStanding, 'reporter')} = %s"
        f" AND m.{col(ReporterStanding, 'marked_at')} IS NOT NULL) AS intake_reporter_marked, "
        f"(SELECT s.{col(Case, 'report_count')} FROM {table(Case)} s"
        f" WHERE s.{col(Case, 'id')} = c.{col(Case, 'id')}) AS intake_seen_report_count "
        f"FROM {table(Case)} c LEFT JOIN {table(User)} u"
        f" ON u.{col(User, 'id')} = c.{col(Case, 'subject_user')} "
        f"WHERE c.{col(Case, 'subject_key')} = %s"
        f" AND c.{col(Case, 'status')} IN ({', '.join(['%s'] * len(OPEN))}){lock}"
    )


class CaseManager(models.Manager.from_queryset(CaseQuerySet)):  # type: ignore[misc]
    def locked_for_intake(
        self, subject_key: str, *, reported: Mapping[str, Any], reporter_id: int | None
    ) -> Case | None:
        """The open case on `subject_key`, locked, with what filing a report on it needs, read by
        the one statement that takes the lock (`Report.objects.file`'s hot path).

        Attributes besides the case's own: `intake_subject_born` (the subject user's birthdate;
        None for a staff account or a thread), `intake_already_reported` (an earlier report on
        the case matches `reported`, Report field names to values), `intake_reporter_marked` (the
        reporter is marked under DSA art. 23; False without one) and `intake_seen_report_count`
        (the case's report count in the statement's snapshot).

        Why the last one: under READ COMMITTED, a statement that waited for the row lock returns
        the row as its holder committed it, but its subqueries still read the snapshot taken
        before the wait. Every report bumps `report_count` under this lock, so when the locked
        row's count differs from the snapshot's, a report joined in between and
        `intake_already_reported` may be stale: the caller asks again with a new statement.
        """
        from accounts.models import User

        names = tuple(reported)
        params = [
            value.pk if isinstance(value, models.Model) else value for value in reported.values()
        ]
        params += [reporter_id, subject_key, *OPEN]
        case = next(iter(self.raw(_intake_sql(connection.vendor, names), params)), None)
        if case is not None:
            # Plain columns come back as the driver reads them (SQLite: text and 0/1).
            case.intake_subject_born = User._meta.get_field("birthdate").to_python(
                case.intake_subject_born
            )
            case.intake_already_reported = bool(case.intake_already_reported)
            case.intake_reporter_marked = bool(case.intake_reporter_marked)
        return case

    def open_for_subject(
        self, subject: Subject, *, category: str, severity: int, now: dt.datetime
    ) -> tuple[Case, bool]:
        """The open case on `subject`, locked; a new one when there is none. Two reports racing
        on a new subject meet at the partial unique index and the loser joins the winner's case."""
        case = self.select_for_update().filter(subject_key=subject.key, status__in=OPEN).first()
        if case is not None:
            return case, False
        return self.open_new_for_subject(subject, category=category, severity=severity, now=now)

    def open_new_for_subject(
        self, subject: Subject, *, category: str, severity: int, now: dt.datetime
    ) -> tuple[Case, bool]:
        """Open a case on `subject`, which had no open case a moment ago; (case, True). When a
        concurrent report opened one first, the partial unique index makes this one wait for it
        and join it, locked: (that case, False)."""
        fields: dict[str, Any] = {
            "subject_key": subject.key,
            "subject_type": subject.type,
            "subject_user_id": subject.user_id,
            "category": category,
            "severity": int(severity),
            "priority_score": int(severity),
            "priority": int(rules.priority.band_for(int(severity))),
            "opened_at": now,
            "due_at": now + rules.priority.DUE_IN[rules.priority.band_for(int(severity))],
        }
        if subject.message_id is not None:
            fields["subject_message_id"] = subject.message_id
        if subject.thread_id is not None:
            fields["subject_thread_id"] = subject.thread_id
        try:
            with transaction.atomic():
                return self.create(**fields), True
        except IntegrityError:
            case = self.select_for_update().get(subject_key=subject.key, status__in=OPEN)
            return case, False

    def claim_next(self, moderator: User, *, queue: str = "all") -> Case | None:
        """Claim the highest-priority unclaimed case of `queue` for `moderator`, or None.

        `SELECT ... FOR UPDATE SKIP LOCKED` over the queue's ordered index: concurrent moderators
        each lock a different row, so no case is handed to two of them (STYLE.md idea 6); an
        idle claim counts as unclaimed. Audited as `moderation.case.claimed`.
        """
        require_perm(moderator, rules.decisions.PERM_CLAIM, doing="claim cases")
        if queue == "senior":
            require_perm(moderator, rules.decisions.PERM_SENIOR_QUEUE, doing="take escalated cases")
        with transaction.atomic():
            now = clock.now()
            _claims_need_not_wait_for_disk()
            case = (
                self.for_queue(queue, moderator=moderator, at=now)
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if case is None:
                return None
            previous = case.claimed_by_id
            _claim_fields(case, moderator, now)
            case.save(update_fields=_CLAIM_FIELDS)
            audit.record(
                actor=moderator,
                action="moderation.case.claimed",
                target=case,
                before={"claimed_by": previous},
                after={"claimed_by": moderator.pk, "expires_at": case.claim_expires_at},
            )
        return case

    def claim(self, case: Case, *, moderator: User) -> Case:
        """Claim a chosen case; refused while someone else holds a live claim (take over instead)."""
        require_perm(moderator, rules.decisions.PERM_CLAIM, doing="claim cases")
        with transaction.atomic():
            now = clock.now()
            _claims_need_not_wait_for_disk()
            locked = self.select_for_update().get(pk=case.pk)
            self.check_open(locked)
            if locked.status == "escalated":
                require_perm(
                    moderator, rules.decisions.PERM_SENIOR_QUEUE, doing="take escalated cases"
                )
            holder = locked.claimed_by_id
            live = holder is not None and locked.claim_expires_at > now
            if live and holder != moderator.pk:
                raise Conflict("claimed_by_another", "Another moderator holds this case.")
            _claim_fields(locked, moderator, now)
            locked.save(update_fields=_CLAIM_FIELDS)
            if not (live and holder == moderator.pk):
                audit.record(
                    actor=moderator,
                    action="moderation.case.claimed",
                    target=locked,
                    before={"claimed_by": holder},
                    after={"claimed_by": moderator.pk, "expires_at": locked.claim_expires_at},
                )
        return locked

    def release(self, case: Case, *, moderator: User, reason: str = "") -> Case:
        """Give a claimed case back to the queue, audited."""
        with transaction.atomic():
            _claims_need_not_wait_for_disk()
            locked = self.select_for_update().get(pk=case.pk)
            self.check_open(locked)
            if locked.claimed_by_id != moderator.pk:
                raise Conflict("not_claimer", "Only the moderator holding a case releases it.")
            self._release(locked, actor=moderator, action="moderation.case.released", reason=reason)
        return locked

    def take_over(self, case: Case, *, moderator: User, reason: str) -> Case:
        """A senior moderator takes a case someone else holds (issue 4), audited with the reason."""
        require_perm(moderator, rules.decisions.PERM_TAKE_OVER, doing="take over cases")
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            now = clock.now()
            locked = self.select_for_update().get(pk=case.pk)
            self.check_open(locked)
            previous = locked.claimed_by_id
            _claim_fields(locked, moderator, now)
            locked.save(update_fields=_CLAIM_FIELDS)
            audit.record(
                actor=moderator,
                action="moderation.case.taken_over",
                target=locked,
                reason=reason,
                before={"claimed_by": previous},
                after={"claimed_by": moderator.pk},
            )
        return locked

    def touch(self, case: Case, *, moderator: User) -> None:
        """Activity on a held case keeps the claim alive (it expires after idle time only)."""
        now = clock.now()
        self.filter(pk=case.pk, claimed_by=moderator).update(
            claim_expires_at=now + conf.claim_idle()
        )

    def escalate(self, case: Case, *, actor: User, reason: str) -> Case:
        """Hand a case to the senior moderators' queue, releasing the claim, audited."""
        require_perm(actor, rules.decisions.PERM_ESCALATE, doing="escalate cases")
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=case.pk)
            self.check_open(locked)
            self.check_holder(locked, actor)
            if locked.status == "escalated":
                raise Conflict("already_escalated", "This case is already with senior moderators.")
            locked.status = "escalated"
            locked.escalated_at = clock.now()
            locked.claimed_by, locked.claimed_at, locked.claim_expires_at = None, None, None
            locked.save(update_fields=["status", "escalated_at", *_CLAIM_FIELDS])
            audit.record(
                actor=actor,
                action="moderation.case.escalated",
                target=locked,
                reason=reason,
                after={"status": "escalated"},
            )
        return locked

    def release_expired_claims(self, *, actor: object, at: dt.datetime) -> int:
        """Release claims idle past their expiry, each audited; safe to run twice or at once
        from two workers (rows are locked and re-checked)."""
        released = 0
        with transaction.atomic():
            rows = (
                self.open()
                .filter(claimed_by__isnull=False, claim_expires_at__lte=at)
                .select_for_update(skip_locked=True)
                .order_by("pk")
            )
            for case in rows:
                self._release(case, actor=actor, action="moderation.case.claim_expired", reason="")
                released += 1
        return released

    def escalate_overdue(self, *, actor: object, at: dt.datetime) -> list[int]:
        """Raise each case past its due time once (the overdue term of priority.py), audited;
        returns the ids raised now. A second run finds nothing new (issue 7)."""
        raised: list[int] = []
        with transaction.atomic():
            rows = (
                self.overdue(at=at)
                .filter(overdue_escalated_at__isnull=True)
                .select_for_update(skip_locked=True)
                .order_by("pk")
            )
            for case in rows:
                before = (case.priority_score, case.priority)
                assessment = rules.priority.assess(
                    inputs_of(case, overdue=True),
                    opened_at=case.opened_at,
                    current_due_at=case.due_at,
                )
                case.priority_score, case.priority = assessment.score, int(assessment.band)
                case.due_at = assessment.due_at
                case.overdue_escalated_at = at
                case.save(
                    update_fields=["priority_score", "priority", "due_at", "overdue_escalated_at"]
                )
                audit.record(
                    actor=actor,
                    action="moderation.case.overdue_escalated",
                    target=case,
                    before={"score": before[0], "band": before[1]},
                    after={"score": case.priority_score, "band": case.priority},
                )
                raised.append(case.pk)
        return raised

    # -- helpers the services share --------------------------------------------------------------

    @staticmethod
    def check_open(case: Case) -> None:
        if case.status not in OPEN:
            raise Conflict("case_closed", "This case is already decided.")

    @staticmethod
    def check_holder(case: Case, moderator: User) -> None:
        """Only the moderator holding a live claim acts on a case (take over to act instead)."""
        if case.claimed_by_id != moderator.pk:
            raise Conflict(
                "not_claimer", "Claim the case first (a senior moderator may take it over)."
            )
        if case.claim_expires_at is None or case.claim_expires_at <= clock.now():
            raise Conflict("claim_expired", "Your claim went idle and lapsed; claim it again.")

    def _release(self, case: Case, *, actor: object, action: str, reason: str) -> None:
        previous = case.claimed_by_id
        case.claimed_by, case.claimed_at, case.claim_expires_at = None, None, None
        case.save(update_fields=_CLAIM_FIELDS)
        audit.record(
            actor=actor, action=action, target=case, reason=reason, before={"claimed_by": previous}
        )


class CaseNoteManager(models.Manager):
    def add(self, case: Case, *, author: User, body: str) -> CaseNote:
        """A note on the case timeline, audited; it keeps the author's claim alive."""
        from .models import Case

        require_perm(author, rules.decisions.PERM_NOTE, doing="add notes")
        body = body.strip()
        if not body or len(body) > NOTE_MAX:
            raise DomainError(
                "invalid", "A note of 1 to 5000 characters.", fields={"body": ["1-5000 characters"]}
            )
        with transaction.atomic():
            note = self.create(case=case, author=author, body=body, created_at=clock.now())
            Case.objects.touch(case, moderator=author)
            audit.record(
                actor=author,
                action="moderation.case.note_added",
                target=case,
                after={"note": note.pk, "length": len(body)},
            )
        return note


# ------------------------------------------------------------------------------------------------
# Decisions, strikes, statements, notices, appeals, flags
# ------------------------------------------------------------------------------------------------


class DecisionQuerySet(models.QuerySet):
    def final(self) -> DecisionQuerySet:
        return self.exclude(type="escalate")

    def restricting(self) -> DecisionQuerySet:
        return self.filter(type__in=[t.value for t in rules.decisions.RESTRICTING])

    def standing(self) -> DecisionQuerySet:
        return self.filter(overturned_at__isnull=True)

    def for_user(self, user: User) -> DecisionQuerySet:
        return self.filter(target_user=user)

    def under_age_unappealed(self, *, at: dt.datetime) -> DecisionQuerySet:
        """Under-age decisions still standing once their 180-day window closed, with no appeal
        or with the appeal rejected (POLICY.md §4; issue 7 closes those accounts). A pending
        appeal keeps the account open until it is decided."""
        return self.standing().filter(
            Q(appeal__isnull=True) | Q(appeal__status="rejected"),
            type="require_age_verification",
            appeal_deadline__lte=at,
        )


DecisionManager = models.Manager.from_queryset(DecisionQuerySet)


class StrikeQuerySet(models.QuerySet):
    def active(self, *, at: dt.datetime) -> StrikeQuerySet:
        return self.filter(removed_at__isnull=True, created_at__lte=at, expires_at__gt=at)


class StrikeManager(models.Manager.from_queryset(StrikeQuerySet)):  # type: ignore[misc]
    def count_active(self, user: User | int, *, at: dt.datetime) -> int:
        return self.active(at=at).filter(user=user).count()

    def add(self, *, user: User, decision: Decision, actor: object) -> Strike:
        """One strike for an upheld violation; it expires after MODERATION_STRIKE_TTL_DAYS."""
        now = clock.now()
        with transaction.atomic():
            strike = self.create(
                user=user, decision=decision, created_at=now, expires_at=now + conf.strike_ttl()
            )
            audit.record(
                actor=actor,
                action="moderation.strike.added",
                target=user,
                after={
                    "strike": strike.pk,
                    "decision": decision.pk,
                    "expires_at": strike.expires_at,
                },
            )
        return strike

    def remove(self, strike: Strike, *, actor: object, reason: str) -> Strike:
        with transaction.atomic():
            locked = self.select_for_update().get(pk=strike.pk)
            if locked.removed_at is not None:
                return locked
            locked.removed_at = clock.now()
            locked.removed_reason = reason
            locked.save(update_fields=["removed_at", "removed_reason"])
            audit.record(
                actor=actor,
                action="moderation.strike.removed",
                target=locked.user,
                reason=reason,
                before={"strike": locked.pk},
            )
        return locked


class StatementQuerySet(models.QuerySet):
    def since(self, moment: dt.datetime) -> StatementQuerySet:
        return self.filter(created_at__gte=moment).order_by("created_at", "id")


StatementManager = models.Manager.from_queryset(StatementQuerySet)


class NoticeQuerySet(models.QuerySet):
    def for_recipient(self, user: User) -> NoticeQuerySet:
        return self.filter(recipient=user).order_by("-created_at", "-id")

    def unread(self) -> NoticeQuerySet:
        return self.filter(read_at__isnull=True)


class NoticeManager(models.Manager.from_queryset(NoticeQuerySet)):  # type: ignore[misc]
    def send(
        self,
        *,
        recipient: User,
        kind: str,
        template: str,
        context: Mapping[str, Any],
        actor: object,
        **links: Any,
    ) -> Notice:
        """Render a notice for the recipient's age tier and store it as sent, audited."""
        from .notices import render

        rendered = render(template, recipient=recipient, context=context)
        with transaction.atomic():
            notice = self.create(
                recipient=recipient,
                kind=kind,
                template=template,
                tier=rendered.tier,
                subject=rendered.subject,
                body=rendered.body,
                created_at=clock.now(),
                **links,
            )
            audit.record(
                actor=actor,
                action="moderation.notice.sent",
                target=recipient,
                after={"notice": notice.pk, "kind": kind, "template": template},
            )
        return notice

    def send_many(
        self,
        *,
        recipients: Sequence[User],
        kind: str,
        template: str,
        context: Mapping[str, Any],
        actor: object,
        audit_target: models.Model,
        **links: Any,
    ) -> list[Notice]:
        """The same notice to many people (every reporter of a case), one audit entry for all:
        a flood of reports must not turn one decision into hundreds of audit entries."""
        from .notices import render

        if not recipients:
            return []
        now = clock.now()
        rows = []
        for person in recipients:
            rendered = render(template, recipient=person, context=context)
            rows.append(
                self.model(
                    recipient=person,
                    kind=kind,
                    template=template,
                    tier=rendered.tier,
                    subject=rendered.subject,
                    body=rendered.body,
                    created_at=now,
                    **links,
                )
            )
        with transaction.atomic():
            created = self.bulk_create(rows)
            audit.record(
                actor=actor,
                action="moderation.notice.sent_to_many",
                target=audit_target,
                after={"kind": kind, "template": template, "recipients": len(created)},
            )
        return created


class AppealQuerySet(models.QuerySet):
    def pending(self) -> AppealQuerySet:
        return self.filter(status="pending").order_by("filed_at", "id")

    def decidable_by(self, reviewer: User) -> AppealQuerySet:
        """Pending appeals this reviewer may decide: never on their own decision (DSA art. 20(6))."""
        return self.pending().exclude(decision__decided_by=reviewer).exclude(appellant=reviewer)


AppealManager = models.Manager.from_queryset(AppealQuerySet)


class FlagQuerySet(models.QuerySet):
    def open(self) -> FlagQuerySet:
        return self.filter(status="open")

    def of_kind(self, kind: str) -> FlagQuerySet:
        return self.filter(kind=kind)


class FlagManager(models.Manager.from_queryset(FlagQuerySet)):  # type: ignore[misc]
    def raise_signal(
        self,
        *,
        user_id: int,
        kind: str,
        signal: Mapping[str, Any],
        actor: object,
        case: Case | None = None,
    ) -> Flag:
        """Add a signal to the user's open flag of this kind, raising the flag when there is none.

        POLICY.md §4: a flag is for staff review and never changes the age or the account on its
        own. Repeated signals gather on one open flag instead of piling up new ones.
        """
        now = clock.now()
        entry = {"at": now.isoformat(), **signal}
        with transaction.atomic():
            flag = (
                self.select_for_update().filter(user_id=user_id, kind=kind, status="open").first()
            )
            raised = flag is None
            if flag is None:
                try:
                    with transaction.atomic():
                        flag = self.create(
                            user_id=user_id,
                            kind=kind,
                            raised_at=now,
                            last_signal_at=now,
                            case=case,
                        )
                except IntegrityError:
                    raised = False
                    flag = self.select_for_update().get(user_id=user_id, kind=kind, status="open")
            flag.signals = [*flag.signals, entry]
            flag.signal_count += 1
            flag.last_signal_at = now
            if flag.case_id is None and case is not None:
                flag.case = case
            flag.save(update_fields=["signals", "signal_count", "last_signal_at", "case"])
            audit.record(
                actor=actor,
                action="moderation.flag." + ("raised" if raised else "signal_added"),
                target=flag,
                after={"kind": kind, "signals": flag.signal_count, "signal": dict(signal)},
            )
        return flag

    def confirm(self, flag: Flag, *, reviewer: User, note: str, case: Case) -> Flag:
        """Staff agree the flag needs a decision; `case` is where it goes (services.confirm_flag
        opens or finds it)."""
        return self._review(flag, reviewer=reviewer, note=note, status="confirmed", case=case)

    def dismiss(self, flag: Flag, *, reviewer: User, note: str) -> Flag:
        """Staff found nothing to act on; audited with the note."""
        return self._review(flag, reviewer=reviewer, note=note, status="dismissed", case=None)

    def _review(
        self, flag: Flag, *, reviewer: User, note: str, status: str, case: Case | None
    ) -> Flag:
        require_perm(reviewer, rules.decisions.PERM_REVIEW_FLAG, doing="review flags")
        if not note.strip():
            raise DomainError("invalid", "A note is required.", fields={"note": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=flag.pk)
            if locked.status != "open":
                raise Conflict("already_reviewed", f"This flag is already {locked.status}.")
            locked.status = status
            locked.reviewed_by = reviewer
            locked.reviewed_at = clock.now()
            locked.review_note = note
            if case is not None:
                locked.case = case
            locked.save(
                update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "case"]
            )
            audit.record(
                actor=reviewer,
                action=f"moderation.flag.{status}",
                target=locked,
                reason=note,
                after={"case": locked.case_id},
            )
        return locked
