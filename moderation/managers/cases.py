"""Cases: the queue's read vocabulary and the guarded writes of claiming, releasing, taking over and escalating."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from safety_portal import rules
from safety_portal.core import audit, clock, metrics
from safety_portal.core.errors import DomainError
from safety_portal.core.loaded_columns import Columns, all_columns
from safety_portal.rules.casework import Action

from .. import conf
from ._common import refuse_unless_allowed, require_perm, sibling_model

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import (
        Case,
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


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=rules.casework.OPEN_STATUSES)

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
                models.When(
                    Q(status__in=rules.casework.OPEN_STATUSES, due_at__lte=at),
                    then=models.Value(True),
                ),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def with_active_strikes(self, *, at: dt.datetime | None = None) -> CaseQuerySet:
        """Annotate `active_strikes`: the subject's strikes in force (the case page and the API
        show it; issue 4)."""
        strike_model = sibling_model(self.model, "Strike")
        at = at or clock.now()
        strikes = (
            strike_model.objects.active(at=at)
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
        then the one due first, then the oldest id (`rules.priority` explains the order).

        Escalated cases appear only for moderators who may handle them (senior moderators).
        """
        queues = self.model.Queue
        try:
            queue = queues(queue)
        except ValueError:
            raise DomainError(
                "invalid",
                "Unknown queue.",
                fields={"queue": ["One of: " + ", ".join(queues.values) + "."]},
            ) from None
        senior = moderator is not None and moderator.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
        qs = self.open().unclaimed(at=at)
        if queue == queues.SENIOR:
            qs = qs.filter(status="escalated")
        elif queue == queues.GENERAL or not senior:
            qs = qs.filter(status="open")
        if queue == queues.MINORS:
            qs = qs.filter(involves_minor=True)
        elif queue == queues.TRUSTED_FLAGGER:
            qs = qs.filter(trusted_flagger=True)
        return qs.order_by("-priority_score", "due_at", "id")


def _claims_need_not_wait_for_disk() -> None:
    """Let a claim's transaction commit without waiting for the WAL flush (PostgreSQL).

    A claim is a work assignment, not a decision: if the server crashes in the few hundred
    milliseconds before the flush, the claim and its audit entry are lost together (WAL is
    replayed in order, so the audit chain has no gap) and the case is simply back in the queue.
    It mattered while every audited write held the audit chain's lock until commit (D3); with the
    chain linked after commit (D23) concurrent claims share WAL flushes and the bench shows no
    gain (D25). Off by default (MODERATION_CLAIM_SYNCHRONOUS_COMMIT = True), kept for an operator
    whose disk is slow. Decisions, appeals and reports always wait.
    """
    if connection.vendor == "postgresql" and not conf.value("MODERATION_CLAIM_SYNCHRONOUS_COMMIT"):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim_fields(case: Case, moderator: User, now: dt.datetime) -> None:
    case.claimed_by = moderator
    case.claimed_at = now
    case.claim_expires_at = now + conf.claim_idle()


_CLAIM_FIELDS = ["claimed_by", "claimed_at", "claim_expires_at"]


# The queue's `at` while the claim statement is compiled; replaced by the claim's own time.
_AT_PLACEHOLDER = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class _ClaimStatement:
    sql: str
    params: tuple[Any, ...]
    at_positions: tuple[int, ...]
    returned: Columns  # the case's columns, as RETURNING lists them


@functools.cache
def _claim_statement(model: type[Case], queue: str, senior: bool) -> _ClaimStatement:
    """`UPDATE ... FROM (the queue's first row, locked) RETURNING` for one queue, compiled once.

    The inner SELECT is `for_queue`'s own query compiled by the ORM (the queue's rule stays in
    one place); only its `at` parameter changes between claims, so it is compiled with a
    placeholder whose positions are recorded. Compiling the two ORM statements of a claim was
    more than half of its CPU time (docs/decisions.md D25). The returned columns are loaded by
    `core.loaded_columns` (the ORM's converters, `from_db`), so the case is the one `get()` returns.
    """
    inner = (
        model.objects.for_queue(queue, moderator=_SeniorityOnly(senior), at=_AT_PLACEHOLDER)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", "claimed_by_id")[:1]
    )
    inner_sql, params = inner.query.sql_with_params()
    at_positions = tuple(i for i, p in enumerate(params) if p == _AT_PLACEHOLDER)
    if not at_positions:
        raise RuntimeError("for_queue() no longer uses its `at` argument: revisit _claim_statement")
    qn = connection.ops.quote_name
    returned = all_columns(model, "claimed")
    sql = (
        f"UPDATE {qn(model._meta.db_table)} AS claimed SET {qn('claimed_by_id')} = %s, "
        f"{qn('claimed_at')} = %s, {qn('claim_expires_at')} = %s "
        f"FROM ({inner_sql}) AS head(id, previous) WHERE claimed.{qn('id')} = head.id "
        f"RETURNING {returned.sql()}, head.previous"
    )
    return _ClaimStatement(sql, tuple(params), at_positions, returned)


class _SeniorityOnly:
    """What `for_queue` asks of a moderator, fixed while the statement is compiled."""

    def __init__(self, senior: bool) -> None:
        self.senior = senior

    def has_perm(self, perm: str) -> bool:
        return self.senior and perm == rules.decisions.PERM_SENIOR_QUEUE


def _claim_in_one_statement(
    model: type[Case], queue: str, senior: bool, actor: User, now: dt.datetime
) -> tuple[Case, int | None] | None:
    """Find, lock and claim the queue's first case in one round trip (PostgreSQL)."""
    statement = _claim_statement(model, queue, senior)
    params = list(statement.params)
    for i in statement.at_positions:
        params[i] = now
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [actor.pk, now, now + conf.claim_idle(), *params])
        row = cursor.fetchone()
    if row is None:
        return None
    return statement.returned.instance(row[:-1]), row[-1]


class CaseManager(models.Manager.from_queryset(CaseQuerySet)):  # type: ignore[misc]
    def claim_next(self, *, actor: User, queue: str = "all") -> Case | None:
        """Claim the highest-priority unclaimed case of `queue` for `actor`, or None.

        `SELECT ... FOR UPDATE SKIP LOCKED` over the queue's ordered index: concurrent moderators
        each lock a different row, so no case is handed to two of them (STYLE.md idea 6); an
        idle claim counts as unclaimed. Audited as `moderation.case.claimed`. On PostgreSQL the
        find, lock and claim are one statement (D25); SQLite takes the ORM's two.
        """
        require_perm(actor, rules.decisions.PERM_CLAIM, doing="claim cases")
        if queue == "senior":
            require_perm(actor, rules.decisions.PERM_SENIOR_QUEUE, doing="take escalated cases")
        senior = actor.has_perm(rules.decisions.PERM_SENIOR_QUEUE)
        with transaction.atomic():
            now = clock.now()
            _claims_need_not_wait_for_disk()
            if connection.vendor == "postgresql":
                claimed = _claim_in_one_statement(self.model, queue, senior, actor, now)
            else:
                claimed = self._claim_through_orm(queue, actor, now)
            if claimed is None:
                return None
            case, previous = claimed
            transaction.on_commit(lambda: metrics.count("claims", how="next"))
            audit.record(
                actor=actor,
                action="moderation.case.claimed",
                target=case,
                before={"claimed_by": previous},
                after={"claimed_by": actor.pk, "expires_at": case.claim_expires_at},
            )
        return case

    def _claim_through_orm(
        self, queue: str, actor: User, now: dt.datetime
    ) -> tuple[Case, int | None] | None:
        """The claim as two ORM statements: lock the first case of the queue, then update it.
        SQLite (the demo) takes this path; PostgreSQL sends `_claim_in_one_statement`, and
        tests/moderation/test_claim_paths.py proves the two claim the same case the same way."""
        case = (
            self.for_queue(queue, moderator=actor, at=now)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if case is None:
            return None
        previous = case.claimed_by_id
        _claim_fields(case, actor, now)
        case.save(update_fields=_CLAIM_FIELDS)
        return case, previous

    def claim(self, case: Case, *, actor: User) -> Case:
        """Claim a chosen case; refused while someone else holds a live claim (take over instead)."""
        require_perm(actor, rules.decisions.PERM_CLAIM, doing="claim cases")
        with transaction.atomic():
            now = clock.now()
            _claims_need_not_wait_for_disk()
            locked = self.select_for_update().get(pk=case.pk)
            refuse_unless_allowed(locked, Action.CLAIM, actor=actor, at=now)
            holder = locked.claimed_by_id
            live = rules.casework.claim_is_live(locked.claim_expires_at, at=now)
            _claim_fields(locked, actor, now)
            locked.save(update_fields=_CLAIM_FIELDS)
            if not (live and holder == actor.pk):
                transaction.on_commit(lambda: metrics.count("claims", how="chosen"))
                audit.record(
                    actor=actor,
                    action="moderation.case.claimed",
                    target=locked,
                    before={"claimed_by": holder},
                    after={"claimed_by": actor.pk, "expires_at": locked.claim_expires_at},
                )
        return locked

    def release(self, case: Case, *, actor: User, reason: str = "") -> Case:
        """Give a claimed case back to the queue, audited."""
        with transaction.atomic():
            _claims_need_not_wait_for_disk()
            locked = self.select_for_update().get(pk=case.pk)
            refuse_unless_allowed(locked, Action.RELEASE, actor=actor)
            self._release(locked, actor=actor, action="moderation.case.released", reason=reason)
        return locked

    def take_over(self, case: Case, *, actor: User, reason: str) -> Case:
        """A senior moderator takes a case someone else holds (issue 4), audited with the reason."""
        require_perm(actor, rules.decisions.PERM_TAKE_OVER, doing="take over cases")
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            now = clock.now()
            locked = self.select_for_update().get(pk=case.pk)
            refuse_unless_allowed(locked, Action.TAKE_OVER, actor=actor, at=now)
            previous = locked.claimed_by_id
            _claim_fields(locked, actor, now)
            locked.save(update_fields=_CLAIM_FIELDS)
            transaction.on_commit(lambda: metrics.count("claims", how="take_over"))
            audit.record(
                actor=actor,
                action="moderation.case.taken_over",
                target=locked,
                reason=reason,
                before={"claimed_by": previous},
                after={"claimed_by": actor.pk},
            )
        return locked

    def touch(self, case: Case, *, actor: User) -> None:
        """Activity on a held case keeps the claim alive (it expires after idle time only)."""
        now = clock.now()
        self.filter(pk=case.pk, claimed_by=actor).update(claim_expires_at=now + conf.claim_idle())

    def escalate(self, case: Case, *, actor: User, reason: str) -> Case:
        """Hand a case to the senior moderators' queue, releasing the claim, audited."""
        require_perm(actor, rules.decisions.PERM_ESCALATE, doing="escalate cases")
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=case.pk)
            refuse_unless_allowed(locked, Action.ESCALATE, actor=actor)
            locked.status = rules.casework.ESCALATED
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
        """Raise each case past its due time once (the overdue term of `rules.priority`), audited;
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

    def _release(self, case: Case, *, actor: object, action: str, reason: str) -> None:
        previous = case.claimed_by_id
        case.claimed_by, case.claimed_at, case.claim_expires_at = None, None, None
        case.save(update_fields=_CLAIM_FIELDS)
        audit.record(
            actor=actor, action=action, target=case, reason=reason, before={"claimed_by": previous}
        )
