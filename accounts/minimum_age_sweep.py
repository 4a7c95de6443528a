"""The minimum-age sweep (POLICY.md §7.3): when a minimum-age rule takes effect in a country (or
staff start one), every account there below the new floor is found, told in plain language, and
placed under review with a grace window to prove its age and the appeal window of §4; the
deactivation after the windows is moderation's under-age closure (rule (b): no standing decision,
status unchanged for 180 days, no pending request).

How it stays safe at scale:
- the cohort is `User.objects.below_minimum_age(on=)` in the sweep's country: one birthdate range
  per floor in force, served by the birthdate index, read in primary-key batches (keyset);
- a sweep is a `MinimumAgeSweep` row with a unique key (`rule:AU:2025-12-10`), so it runs once;
  it records the last user id it finished, so a killed run resumes where it stopped;
- each account is one transaction: its review row and notice, then the status change with its
  audit entry (the audit entry last, D3); a completed sweep writes one summary audit entry;
- an account already under review, banned or closed is not found again (the cohort excludes them).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from typing import TextIO

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.bulk_insert import copy_rows
from safety_portal.core.errors import Conflict, DomainError
from safety_portal.core.outbox.models import UserNotice

from .choices import COUNTRY_CODES
from .managers import UserQuerySet
from .managers.reregistration_signals import clean_signals
from .models import (
    BirthdateChangeRequest,
    MinimumAgeReview,
    MinimumAgeSweep,
    ReRegistrationSignal,
    User,
)

JOB = "accounts.minimum_age_sweep"
BATCH_SIZE = 1000
Status = rules.vocabulary.AccountStatus
# Statuses a sweep moves to under_age_review; banned and already-reviewed accounts stay as they are.
_SWEPT_STATUSES = (Status.ACTIVE, Status.RESTRICTED, Status.SUSPENDED)


def cohort(country: str, *, on: dt.date) -> UserQuerySet:
    """Accounts in `country` below its floor on `on` that are not yet under review."""
    return User.objects.below_minimum_age(on=on).filter(
        country=country, status__in=[s.value for s in _SWEPT_STATUSES]
    )


def start(*, key: str, country: str, on: dt.date, source: str, actor: object) -> MinimumAgeSweep:
    """The sweep for `key`, created once (audited); a second call returns the same row."""
    country = country.strip().upper()
    if country not in COUNTRY_CODES:
        raise DomainError(
            "invalid",
            f"{country!r} is not an ISO 3166-1 alpha-2 country code.",
            fields={"country": ["unknown country"]},
        )
    existing = MinimumAgeSweep.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            sweep = MinimumAgeSweep.objects.create(
                key=key, country=country, on=on, source=source, started_at=clock.now()
            )
            audit.record(
                actor=actor,
                action="accounts.minimum_age_sweep.started",
                target=sweep,
                reason=source,
                after={"key": key, "country": country, "on": on},
            )
    except IntegrityError:  # a concurrent start made it first
        return MinimumAgeSweep.objects.get(key=key)
    return sweep


def run(
    sweep: MinimumAgeSweep,
    *,
    actor: object,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> MinimumAgeSweep:
    """Place every account of the sweep's cohort under review; resumes after `last_user_id`.

    One transaction per batch: the batch's rows are locked with the cohort's conditions checked
    again under the lock, their reviews and notices written in two COPYs, their status in one
    UPDATE, the sweep's progress, and one audit entry per account in one batch, last (D3).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    if sweep.completed_at is not None:
        return sweep
    while True:
        with transaction.atomic():
            taken = _sweep_batch(sweep, actor=actor, batch_size=batch_size)
        if not taken:
            break
        if progress is not None:
            progress(taken)
    with transaction.atomic():
        done = MinimumAgeSweep.objects.filter(pk=sweep.pk, completed_at__isnull=True).update(
            completed_at=clock.now()
        )
        if done:
            audit.record(
                actor=actor,
                action="accounts.minimum_age_sweep.completed",
                target=sweep,
                reason=sweep.source,
                after={"country": sweep.country, "on": sweep.on, "found": sweep.found},
            )
    sweep.refresh_from_db()
    return sweep


def _sweep_batch(sweep: MinimumAgeSweep, *, actor: object, batch_size: int) -> int:
    """One batch of the sweep, in the caller's transaction; the number of accounts it placed."""
    today = clock.today()
    batch = list(
        cohort(str(sweep.country), on=today)
        .filter(pk__gt=sweep.last_user_id)
        .order_by("pk")
        .select_for_update(of=("self",))
        .only("pk", "username", "birthdate", "country", "status")[:batch_size]
    )
    if not batch:
        return 0
    _open_reviews(batch, country=str(sweep.country), sweep=sweep, today=today)
    sweep.last_user_id, sweep.found = batch[-1].pk, sweep.found + len(batch)
    MinimumAgeSweep.objects.filter(pk=sweep.pk).update(
        last_user_id=sweep.last_user_id, found=sweep.found
    )
    User.objects.change_status_many(
        batch, Status.UNDER_AGE_REVIEW, actor=actor, reason=_reason(str(sweep.country), sweep)
    )
    return len(batch)


def place_under_review(user: User, *, sweep: MinimumAgeSweep | None, actor: object) -> bool:
    """One account: its review (with the windows of §7.3), its notice, then under_age_review.

    False when the account no longer qualifies under its row lock (its birthdate was corrected,
    it was banned, another run took it): nothing is written.
    """
    today = clock.today()
    with transaction.atomic():
        locked = User.objects.select_for_update().filter(pk=user.pk).first()
        country = str(locked.country) if locked is not None else ""
        if (
            locked is None
            or locked.birthdate is None
            or locked.status not in _SWEPT_STATUSES
            or not rules.ages.is_below_minimum_age(locked.birthdate, country, today)
        ):
            return False
        open_review(locked, actor=actor, reason=_reason(country, sweep), sweep=sweep)
    return True


def open_review(
    user: User,
    *,
    actor: object,
    reason: str,
    found_by: str = "birthdate",
    sweep: MinimumAgeSweep | None = None,
) -> bool:
    """An account that a corrected birthdate or an age estimate places below the minimum age
    (§7.3: "or an assurance result or signal places an account below the minimum"): the same
    review, windows and notice as a sweep's, then under_age_review. For the birthdate-request and
    assurance managers, inside their transaction and row lock; `found_by` ("birthdate" or
    "estimate") picks the notice's words. False, writing nothing, when the account's status is
    not one a review moves (banned, closed, already under review)."""
    if user.status not in _SWEPT_STATUSES:
        return False
    country = str(user.country)
    _open_reviews([user], country=country, sweep=sweep, today=clock.today(), found_by=found_by)
    User.objects.change_status(user, Status.UNDER_AGE_REVIEW, actor=actor, reason=reason)
    return True


def close_review_verified_older(
    user: User, *, actor: object, request: BirthdateChangeRequest
) -> bool:
    """A senior approved a birthdate correction (the proof of §7.2, checked by a person: §4)
    that puts an account under minimum-age review at or above its country's floor: the review
    closes as `verified_older` and the account is active again, audited, in the caller's
    transaction. False, changing nothing, when the account has no open review or its status
    was not set by one (a moderator's own under_age_review stays theirs to lift)."""
    if user.status != Status.UNDER_AGE_REVIEW or rules.ages.needs_guardian_consent_to_hold(
        user.birthdate, str(user.country), clock.today()
    ):
        return False
    closed = MinimumAgeReview.objects.filter(user=user, outcome="open").update(
        outcome=MinimumAgeReview.Outcome.VERIFIED_OLDER, decided_at=clock.now()
    )
    if not closed:
        return False
    User.objects.change_status(
        user,
        Status.ACTIVE,
        actor=actor,
        reason=f"Verified old enough: birthdate correction {request.pk} approved (POLICY.md §7.3).",
    )
    return True


def _reason(country: str, sweep: MinimumAgeSweep | None) -> str:
    return f"Below the minimum age of {country} (POLICY.md §7.3)" + (
        f": {sweep.source}" if sweep else ""
    )


def _open_reviews(
    users: list[User],
    *,
    country: str,
    sweep: MinimumAgeSweep | None,
    today: dt.date,
    found_by: str = "birthdate",
) -> None:
    """The review rows (with the windows of §7.3) and the plain-language notices of `users`, all
    in `country` (a batch is one sweep's cohort): the floor and the notice's words are the same
    for the whole batch, only the tier the notice is written for differs."""
    windows = rules.minimum_age.review_windows(today)
    now = clock.now()
    key = f"minimum-age:{sweep.key if sweep else today.isoformat()}"
    sweep_id = sweep.pk if sweep else None
    copy_rows(
        MinimumAgeReview,
        [
            {
                "user_id": user.pk,
                "sweep_id": sweep_id,
                "country": country,
                "found_on": today,
                "grace_until": windows.grace_until,
                "appeal_until": windows.appeal_until,
                "notified_at": now,
            }
            for user in users
        ],
    )
    floor = rules.jurisdictions.account_floor_age(country, on=today)
    subject, body = _notice(floor, windows, found_by=found_by)
    kind = UserNotice.Kind.MINIMUM_AGE.value
    copy_rows(
        UserNotice,
        [
            {
                "user_id": user.pk,
                "key": key,
                "kind": kind,
                "tier": rules.ages.tier_on(user.birthdate, today).value,
                "subject": subject,
                "body": body,
                "created_at": now,
            }
            for user in users
        ],
    )


_FOUND_BY = {
    "birthdate": "The birthday on your account says you are younger",
    "estimate": "An age check on your account says you are probably younger",
}


def _notice(
    minimum: int, windows: rules.minimum_age.ReviewWindows, *, found_by: str = "birthdate"
) -> tuple[str, str]:
    """Plain language for a teenager (§7.3: 'a notice with the reason'), with what to do next."""
    body = "\n".join(
        [
            f"The law where you live says you need to be {minimum} or older to have an "
            f"account on our app. {_FOUND_BY[found_by]}, so your account is paused: nobody can "
            "see it or message you, and you cannot post.",
            "",
            f"If you are {minimum} or older, you can prove your age until "
            f"{windows.grace_until:%d %B %Y}: once our team has checked it, your account comes back.",
            f"You can also ask us to look again (an appeal) until {windows.appeal_until:%d %B %Y}. "
            "After that, the account will be closed and its personal data deleted.",
            "",
            "If this worries you, talk to a parent, carer or another adult you trust.",
        ]
    )
    return "Your account is paused because of the minimum age", body


# How far back the daily job looks for rules that took effect (a missed day is caught up).
CATCH_UP_DAYS = 7


def run_due(
    *, actor: object, today: dt.date | None = None, batch_size: int = BATCH_SIZE
) -> list[MinimumAgeSweep]:
    """Daily: finish any sweep a killed run left, then a sweep for every floor rule that took
    effect in the last CATCH_UP_DAYS (POLICY.md §7: "a rule that takes effect re-checks existing
    accounts"); each runs once (its key)."""
    today = today or clock.today()
    triggers = rules.minimum_age.sweep_triggers(today - dt.timedelta(days=CATCH_UP_DAYS), today)
    done: dict[str, MinimumAgeSweep] = {}
    for unfinished in MinimumAgeSweep.objects.filter(completed_at__isnull=True).order_by("pk"):
        done[unfinished.key] = run(unfinished, actor=actor, batch_size=batch_size)
    for trigger in triggers:
        if trigger.key in done:
            continue
        sweep = start(
            key=trigger.key,
            country=trigger.country,
            on=trigger.on,
            source=trigger.source,
            actor=actor,
        )
        done[sweep.key] = run(sweep, actor=actor, batch_size=batch_size)
    return list(done.values())


COUNT_COLUMNS = ("found", "notified", "verified_older", "deactivated", "appealed", "reinstated")


def regulator_counts(
    *, start_on: dt.date, end_on: dt.date, country: str | None = None
) -> list[dict[str, object]]:
    """Per country, the accounts found below the minimum age between two dates (inclusive) and
    what became of them (POLICY.md §7.3): one aggregate query over the reviews."""
    reviews = MinimumAgeReview.objects.filter(found_on__gte=start_on, found_on__lte=end_on)
    if country is not None:
        reviews = reviews.filter(country=country.strip().upper())
    outcome = MinimumAgeReview.Outcome
    rows = (
        reviews.values("country")
        .annotate(
            found=Count("pk"),
            notified=Count("pk", filter=Q(notified_at__isnull=False)),
            verified_older=Count("pk", filter=Q(outcome=outcome.VERIFIED_OLDER)),
            deactivated=Count("pk", filter=Q(outcome=outcome.DEACTIVATED)),
            appealed=Count("pk", filter=Q(appealed_at__isnull=False)),
            reinstated=Count("pk", filter=Q(outcome=outcome.REINSTATED)),
        )
        .order_by("country")
    )
    return [{"country": str(r["country"]), **{c: r[c] for c in COUNT_COLUMNS}} for r in rows]


def write_counts_csv(rows: list[dict[str, object]], handle: TextIO) -> None:
    """The regulator's counts as CSV (a header, one row per country): the command and the
    portal's download write the same file."""
    writer = csv.DictWriter(handle, fieldnames=["country", *COUNT_COLUMNS])
    writer.writeheader()
    writer.writerows(rows)


def record_signals(
    user: User, signals: list[dict[str, str]], *, actor: object
) -> list[tuple[str, str]]:
    """The integration reports the re-registration signals of an account under minimum-age
    review or closed after one (POLICY.md §7.3), so that a new sign-up from the same device or
    recovery identifier is refused while they are kept. Any other account: a Conflict."""
    pairs = clean_signals(signals)
    reviewed = (
        user.status == Status.UNDER_AGE_REVIEW
        or user.minimum_age_reviews.filter(outcome=MinimumAgeReview.Outcome.DEACTIVATED).exists()
    )
    if not reviewed:
        raise Conflict(
            "not_under_review",
            "Signals are kept only for an account under minimum-age review or closed after one; "
            "this account is neither.",
        )
    ReRegistrationSignal.objects.record(
        pairs,
        cause=ReRegistrationSignal.Cause.MINIMUM_AGE_REVIEW,
        country=str(user.country),
        actor=actor,
        target=user,
    )
    return pairs
