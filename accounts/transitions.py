"""Birthday transitions: telling users whose age tier changes today (issue 7; POLICY.md §1, §3).

Nothing about capabilities is stored. The policy module computes what a person may do from their
birthdate on every request, so a 16-year-old can turn on direct messages with friends from the first
minute of their birthday whether this job ran or not. The job only *tells* people: one tier-change
notice for each user crossing 13, 16 or 18 on the day, and one summary audit entry per day.

How it stays cheap and safe:
- The cohort comes from `User.objects.turning(age, on=)`: one birthdate range per age, served by
  the birthdate index; no loop over all users. It is read in primary-key batches (keyset), and each
  batch's notices are written with one INSERT.
- Idempotent per day: each notice has a key unique per user (`tier-change:<age>:<date>`), so a
  second or concurrent run inserts nothing new; the day's `JobRun` row is completed, and the summary
  audited, by exactly one run (a conditional UPDATE). A run killed between batches keeps the
  batches it committed; the next run skips them and completes the day.
- A missed day loses nothing that matters (capabilities are computed), and the next run still sends
  the missed notices: it catches up every day since the last completed run, at most a week back.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import Counter
from dataclasses import dataclass

from django.db import transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.outbox.models import JobRun, UserNotice

from .managers import UserQuerySet
from .models import User

JOB = "accounts.birthday_transitions"
TRANSITION_AGES: tuple[int, ...] = (
    rules.ages.YOUNG_TEEN_AGE,
    rules.ages.DM_MINIMUM_AGE,
    rules.ages.ADULT_AGE,
)
BATCH_SIZE = 1000
CATCH_UP_DAYS = 7

# What changes for the user, in words suited to their age (POLICY.md §3, tier table).
_NOTICES: dict[rules.vocabulary.Tier, tuple[str, str]] = {
    rules.vocabulary.Tier.YOUNG_TEEN: (
        "You are 13: your account follows the settings for 13 to 15",
        "Happy birthday! Accounts of 13- to 15-year-olds are private, and direct messages stay off "
        f"until you are {rules.ages.DM_MINIMUM_AGE}. You can see every setting, and why it is set, in "
        "Settings.",
    ),
    rules.vocabulary.Tier.OLDER_TEEN: (
        "You are 16: you can now turn on direct messages with friends",
        "Happy birthday! You can now turn on direct messages with friends (people you follow who "
        "follow you back), and a friend can add you to a group chat. Direct messages stay off until "
        "you turn them on in Settings.",
    ),
    rules.vocabulary.Tier.ADULT: (
        "You are 18: adult settings are now available",
        "Happy birthday! Your account can now use adult settings, such as choosing who may message "
        "you and hosting livestreams. Your current privacy choices stay as they are until you change "
        "them in Settings.",
    ),
}


@dataclass(frozen=True)
class DayResult:
    on: dt.date
    turning: dict[int, int]  # age -> users crossing it that day
    batches: int
    completed_now: bool  # False: an earlier (or concurrent) run had already completed the day

    @property
    def notices(self) -> int:
        return sum(self.turning.values())


def cohort(on: dt.date) -> UserQuerySet:
    """Everyone whose 13th, 16th or 18th birthday is `on` (29 February births on 1 March).

    Closed accounts have no birthdate and never match; banned accounts get no product notices.
    """
    turning = functools.reduce(
        operator.or_, (User.objects.turning(age, on=on) for age in TRANSITION_AGES)
    )
    return turning.exclude(status=rules.vocabulary.AccountStatus.BANNED)


def run(
    *, actor: object, today: dt.date | None = None, batch_size: int = BATCH_SIZE
) -> list[DayResult]:
    """Run every day since the last completed run (at most CATCH_UP_DAYS), oldest first."""
    today = today or clock.today()
    last_done = (
        JobRun.objects.filter(job=JOB, completed_at__isnull=False, run_date__lt=today)
        .order_by("-run_date")
        .values_list("run_date", flat=True)
        .first()
    )
    first = today
    if last_done is not None:
        first = max(last_done + dt.timedelta(days=1), today - dt.timedelta(days=CATCH_UP_DAYS - 1))
    days = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    return [run_day(day, actor=actor, batch_size=batch_size) for day in days]


def run_day(on: dt.date, *, actor: object, batch_size: int = BATCH_SIZE) -> DayResult:
    """Send the tier-change notices of `on` and audit one summary; a repeat does nothing new.

    Each batch commits on its own (a killed run keeps its progress); the last batch commits
    together with the day's completion and its audit entry, so an ordinary day is one transaction.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    done = (
        JobRun.objects.filter(job=JOB, run_date=on, completed_at__isnull=False)
        .values_list("summary", flat=True)
        .first()
    )
    if done is not None:
        return DayResult(on, _turning_from(done), 0, completed_now=False)

    started = clock.now()
    turning: Counter[int] = Counter()
    batches = 0
    last_id = 0
    people = cohort(on)
    while True:
        rows = list(
            people.filter(pk__gt=last_id).order_by("pk").values_list("pk", "birthdate")[:batch_size]
        )
        final = len(rows) < batch_size
        with transaction.atomic():
            if rows:
                batches += 1
                now = clock.now()
                notices = []
                for user_id, birthdate in rows:
                    age = rules.ages.age_on(birthdate, on)
                    if age not in TRANSITION_AGES:  # SQL and the policy agree (POLICY.md §1)
                        raise RuntimeError(f"user {user_id} is {age} on {on}, not a transition age")
                    turning[age] += 1
                    notices.append(_notice(user_id, age, on, now))
                # One statement per batch; a key already there (a killed run's) is skipped.
                UserNotice.objects.bulk_create(notices, ignore_conflicts=True)
            if final:
                counts = {age: turning.get(age, 0) for age in TRANSITION_AGES}
                completed = _complete(on, counts, batches=batches, started=started, actor=actor)
        if final:
            return DayResult(on, counts, batches, completed_now=completed)
        last_id = rows[-1][0]


def _complete(
    on: dt.date, counts: dict[int, int], *, batches: int, started: dt.datetime, actor: object
) -> bool:
    """Mark the day done and audit its summary, once: only the run whose UPDATE wins audits."""
    summary = {
        "date": on.isoformat(),
        "turning": {str(age): n for age, n in counts.items()},
        "notices": sum(counts.values()),
        "batches": batches,
    }
    JobRun.objects.bulk_create(
        [JobRun(job=JOB, run_date=on, started_at=started)], ignore_conflicts=True
    )
    completed = JobRun.objects.filter(job=JOB, run_date=on, completed_at__isnull=True).update(
        completed_at=clock.now(), summary=summary
    )
    if completed:
        audit.record(
            actor=actor,
            action="accounts.birthday_transitions.completed",
            target=JobRun.objects.get(job=JOB, run_date=on),
            reason="Tier-change notices for users crossing 13, 16 or 18 (POLICY.md §1, §3).",
            after=summary,
        )
    return bool(completed)


def _notice(user_id: int, age: int, on: dt.date, now: dt.datetime) -> UserNotice:
    tier = rules.ages.tier_for_age(age)
    subject, body = _NOTICES[tier]
    return UserNotice(
        user_id=user_id,
        kind=UserNotice.Kind.TIER_CHANGE,
        key=f"tier-change:{age}:{on.isoformat()}",
        tier=tier.value,
        subject=subject,
        body=body,
        created_at=now,
    )


def _turning_from(summary: dict[str, object]) -> dict[int, int]:
    raw = summary.get("turning", {})
    return {int(age): int(n) for age, n in raw.items()} if isinstance(raw, dict) else {}
