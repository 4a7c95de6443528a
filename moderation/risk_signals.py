"""Signals that raise cases on their own: the contact-risk signal (issue 4).

An adult whose direct messages to minors are refused repeatedly, or who tries to reach many
distinct minors in a short window, gets an automated report (category protection of minors,
keyword grooming) with the evidence attached, and a contact-risk flag for staff review. The
thresholds are settings (`moderation/conf.py`): MODERATION_CONTACT_RISK_WINDOW_HOURS,
MODERATION_CONTACT_RISK_REFUSALS, MODERATION_CONTACT_RISK_DISTINCT_MINORS.

Messaging writes one `RefusedContactAttempt` per refusal; a receiver here queues the evaluation
through the outbox (so a broker outage loses nothing, issue 7) only when an adult was refused
contact with a minor. The evaluation is idempotent: with nothing new it changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.signals import post_save

from accounts.events import assurance_disagrees, signed_up_after_age_refusals
from accounts.models import User
from messaging.models import Block, RefusedContactAttempt, Thread, ThreadParticipant
from safety_portal import rules
from safety_portal.core import clock, outbox

from . import conf
from .actions.filing import file_report
from .models import Flag

TASK = "moderation.evaluate_contact_risk"
RULE = "contact_risk"
EVIDENCE_LIMIT = 50


def evaluate_contact_risk(*, user_id: int, actor: object, at: dt.datetime) -> Any:
    """Count the adult's recent attempts on minors; past a threshold, raise the flag and file the
    automated report. Returns the flag when one was raised or updated, else None.

    Attempts are refused direct messages/starts/adds whose recipient is a minor, plus threads the
    adult started with a minor, within the window (POLICY.md §3: contact between adults and
    minors). A second run with no new attempts finds the same counts on the open flag and does
    nothing.
    """
    user = User.objects.filter(pk=user_id).only("pk", "birthdate").first()
    today = clock.today()
    if user is None or not _signal_applies_to(user, on=today):
        return None
    since = at - conf.contact_risk_window()
    refusals = list(
        _refusals_to_minors(user_id, since=since, at=at, on=today)
        .order_by("-at", "-pk")
        .values("pk", "recipient_id", "action", "reason", "at")
    )
    reached = set(
        _minors_reached(user_id, since=since, at=at, on=today).values_list("user_id", flat=True)
    )
    distinct = reached | {r["recipient_id"] for r in refusals}
    finding = rules.risk.assess_contact_risk(
        refusals_to_minors=len(refusals),
        distinct_minors=len(distinct),
        max_refusals=int(conf.value("MODERATION_CONTACT_RISK_REFUSALS")),
        max_distinct=int(conf.value("MODERATION_CONTACT_RISK_DISTINCT_MINORS")),
    )
    if not finding.triggered:
        return None
    signal = {
        "source": RULE,
        "window_hours": int(conf.value("MODERATION_CONTACT_RISK_WINDOW_HOURS")),
        "refusals_to_minors": len(refusals),
        "distinct_minors": len(distinct),
        "reasons": list(finding.reasons),
    }
    with transaction.atomic():
        flag = (
            Flag.objects.select_for_update()
            .filter(user_id=user_id, kind=Flag.Kind.CONTACT_RISK, status=Flag.Status.OPEN)
            .first()
        )
        if flag is not None and flag.signals:
            last = flag.signals[-1]
            if (last.get("refusals_to_minors"), last.get("distinct_minors")) == (
                signal["refusals_to_minors"],
                signal["distinct_minors"],
            ):
                return None  # nothing new since the last evaluation
        evidence = {
            **signal,
            "attempts": [
                {
                    "id": r["pk"],
                    "recipient": r["recipient_id"],
                    "action": r["action"],
                    "reason": r["reason"],
                    "at": r["at"].isoformat(),
                }
                for r in refusals[:EVIDENCE_LIMIT]
            ],
            "threads_started_with_minors": len(reached),
        }
        case = None
        if flag is None or flag.case_id is None or not flag.case.is_open:
            report = file_report(
                actor=actor,
                subject_type="user",
                subject_id=user_id,
                category=rules.sor_vocabulary.Category.PROTECTION_OF_MINORS,
                keywords=[rules.sor_vocabulary.CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS],
                explanation="Automated contact-risk signal: " + "; ".join(finding.reasons) + ".",
                rule=RULE,
                evidence=evidence,
            )
            case = report.case
        return Flag.objects.raise_signal(
            user_id=user_id, kind=Flag.Kind.CONTACT_RISK, signal=signal, case=case, actor=actor
        )


def _signal_applies_to(user: User, *, on: dt.date) -> bool:
    """The signal is about adults reaching minors (POLICY.md §3): not about minors, nor staff."""
    return user.birthdate is not None and not rules.ages.is_minor(user.birthdate, on)


def _refusals_to_minors(
    user_id: int, *, since: dt.datetime, at: dt.datetime, on: dt.date
) -> QuerySet[RefusedContactAttempt]:
    """What counts as a refused attempt on a minor: a refused start, add or send by this person
    whose recipient is a minor (POLICY.md §3). Served by `refused_sender_recent`."""
    return (
        RefusedContactAttempt.objects.by_sender(user_id)
        .since(since)
        .filter(at__lte=at, recipient__in=User.objects.minors(on=on))
    )


def _minors_reached(
    user_id: int, *, since: dt.datetime, at: dt.datetime, on: dt.date
) -> QuerySet[ThreadParticipant]:
    """What counts as reaching a minor: a minor in a thread this person started in the window
    (POLICY.md §3). Served by `thread_creator`, then `participant_unique`."""
    started = Thread.objects.filter(creator_id=user_id, created_at__gte=since, created_at__lte=at)
    return ThreadParticipant.objects.filter(
        thread__in=started, user__in=User.objects.minors(on=on)
    ).exclude(user_id=user_id)


# The windows the case workspace shows the contact-risk picture over (issue 15.1).
PICTURE_WINDOWS_DAYS = (7, 30)


@dataclass(frozen=True)
class ContactRiskWindow:
    """One window of the picture: the same counts `evaluate_contact_risk` asks the rule about."""

    days: int
    minors_reached: int
    minors_refused: int
    distinct_minors: int
    refused_attempts: int
    reasons: tuple[tuple[str, int], ...]
    blocks_from_minors: int


@dataclass(frozen=True)
class ContactRiskPicture:
    windows: tuple[ContactRiskWindow, ...]
    blocks_from_minors_total: int


def contact_risk_picture(
    user: User, *, at: dt.datetime, windows_days: tuple[int, ...] = PICTURE_WINDOWS_DAYS
) -> ContactRiskPicture | None:
    """The contact-risk signal over longer windows, for a person deciding a case (issue 15.1):
    distinct minors reached and refused, refused attempts by reason, blocks received from minors.

    Counts what `evaluate_contact_risk` counts (the same two querysets), over each window ending
    at `at`. Three grouped queries whatever the person's history: rows are one per (minor,
    reason) and one per minor reached, never one per attempt. Reads only; raises nothing. None
    for someone the signal does not apply to (a minor, a staff account).
    """
    today = clock.today()
    if not _signal_applies_to(user, on=today):
        return None
    user_id = user.pk
    longest = max(windows_days)
    starts = {days: at - dt.timedelta(days=days) for days in windows_days}
    since = starts[longest]
    refused_rows = list(
        _refusals_to_minors(user_id, since=since, at=at, on=today)
        .order_by()
        .values("recipient_id", "reason")
        .annotate(
            **{f"n{days}": Count("pk", filter=Q(at__gte=start)) for days, start in starts.items()}
        )
    )
    reached_rows = list(
        _minors_reached(user_id, since=since, at=at, on=today)
        .order_by()
        .values("user_id")
        .annotate(last=Max("thread__created_at"))
    )
    blocks = Block.objects.filter(
        blocked_id=user_id, blocker__in=User.objects.minors(on=today), created_at__lte=at
    ).aggregate(
        total=Count("pk"),
        **{
            f"n{days}": Count("pk", filter=Q(created_at__gte=start))
            for days, start in starts.items()
        },
    )
    windows = []
    for days, start in starts.items():
        key = f"n{days}"
        in_window = [r for r in refused_rows if r[key]]
        refused = {r["recipient_id"] for r in in_window}
        reached = {r["user_id"] for r in reached_rows if r["last"] >= start}
        reasons: dict[str, int] = {}
        for r in in_window:
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + r[key]
        windows.append(
            ContactRiskWindow(
                days=days,
                minors_reached=len(reached),
                minors_refused=len(refused),
                distinct_minors=len(reached | refused),
                refused_attempts=sum(reasons.values()),
                reasons=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
                blocks_from_minors=blocks[key],
            )
        )
    return ContactRiskPicture(windows=tuple(windows), blocks_from_minors_total=blocks["total"])


def queue_evaluation_on_refusal(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Queue an evaluation when an adult was refused contact with a minor (one query to tell)."""
    if not created or instance.recipient_id is None:
        return
    today = clock.today()
    minor = {
        pk: rules.ages.is_minor(born, today)
        for pk, born in User.objects.filter(
            pk__in=[instance.sender_id, instance.recipient_id], birthdate__isnull=False
        ).values_list("pk", "birthdate")
    }
    sender_minor, recipient_minor = minor.get(instance.sender_id), minor.get(instance.recipient_id)
    if sender_minor is None or recipient_minor is None or sender_minor or not recipient_minor:
        return  # only an adult refused contact with a minor is a contact-risk signal
    with transaction.atomic():
        outbox.enqueue(TASK, kwargs={"user_id": instance.sender_id})


def raise_age_flag_after_refused_sign_up(
    sender: Any, *, user: Any, actor: object, evidence: dict[str, Any], **kwargs: Any
) -> None:
    """The age gate refused this external id before the account was made: an age flag for staff
    (POLICY.md §4), raised in the sign-up's transaction. A flag never changes the age itself."""
    Flag.objects.raise_signal(user_id=user.pk, kind=Flag.Kind.AGE, signal=evidence, actor=actor)


def raise_flag_on_assurance_disagreement(
    sender: Any,
    *,
    user: Any,
    actor: object,
    direction: str,
    evidence: dict[str, Any],
    **kwargs: Any,
) -> None:
    """An age-assurance result disagrees with the stored age (POLICY.md §7.2): a flag for staff,
    raised in the result's transaction. Younger is an age flag (may be younger than declared);
    older is an `age_older` flag, and nothing about the account changes."""
    kind = Flag.Kind.AGE if direction == "younger" else Flag.Kind.AGE_OLDER
    Flag.objects.raise_signal(user_id=user.pk, kind=kind, signal=evidence, actor=actor)


def connect() -> None:
    assurance_disagrees.connect(
        raise_flag_on_assurance_disagreement,
        dispatch_uid="moderation.flag_on_assurance_disagreement",
    )
    signed_up_after_age_refusals.connect(
        raise_age_flag_after_refused_sign_up,
        dispatch_uid="moderation.age_flag_after_refused_sign_up",
    )
    post_save.connect(
        queue_evaluation_on_refusal,
        sender=RefusedContactAttempt,
        dispatch_uid="moderation.contact_risk_on_refusal",
    )
