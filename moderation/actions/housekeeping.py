"""The periodic jobs' work: recording ended restrictions, raising overdue cases, releasing idle
claims. Each is safe to run twice or at once.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import Restriction, User
from safety_portal import rules
from safety_portal.core import audit

from ..models import (
    Case,
    Notice,
)
from .decision_notices import FEATURE_WORDS, when_words

if TYPE_CHECKING:
    from accounts.models import User


def end_elapsed_restrictions(*, actor: object, at: dt.datetime, batch: int = 500) -> int:
    """Record the end of restrictions whose end time passed, tell the user, audit it.

    The restriction already stopped counting at its end time (the read side uses the times,
    docs/decisions.md D5); this only records the end, returns a suspended account's stored status
    to active when no other suspension is in force, and sends the notice once (a unique
    constraint backs "once"). Safe to run twice or concurrently.
    """
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
                    context={"what": what, "ended_at": when_words(restriction.ends_at)},
                    actor=actor,
                    restriction=restriction,
                )
            done += 1
    return done


def escalate_overdue_cases(*, actor: object, at: dt.datetime) -> int:
    """Raise overdue cases once and alert the senior moderators once per case (issue 7)."""
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
                    "due_at": when_words(case.due_at),
                    "involves_minor": case.involves_minor,
                },
                actor=actor,
                audit_target=case,
                case=case,
            )
    return len(raised)


def release_expired_claims(*, actor: object, at: dt.datetime) -> int:
    return Case.objects.release_expired_claims(actor=actor, at=at)
