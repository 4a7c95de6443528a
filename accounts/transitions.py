"""Birthday transitions: telling users whose age tier changes today (issue 7; POLICY.md §1, §3).

Nothing about capabilities is stored. The policy module computes what a person may do from their
birthdate on every request, so a 16-year-old can turn on direct messages with friends from the first
minute of their birthday whether this job ran or not. The job only *tells* people: one tier-change
notice for each user crossing 13, 16 or 18 on the day, and one summary audit entry per day.

How it stays cheap and safe:
- The cohort is one birthdate range per age (`rules.ages.birthdates_turning`, the same bounds as
  `User.objects.turning`), served by the birthdate index; no loop over all users. Each primary-key
  batch (keyset) is one INSERT ... SELECT computed by the database, the bounds and tiers passed in.
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
import json
import operator
from collections import Counter
from dataclasses import dataclass

from django.db import connection, transaction

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

    Each batch is one statement: the database reads the next `batch_size` users of the cohort (the
    bounds from `rules.ages.birthdates_turning`, the tiers from `rules.ages.tier_for_age`, both
    passed as parameters), inserts their notices and returns the counts per age; no user row comes
    to Python. Each batch commits on its own (a killed run keeps its progress); the last batch
    commits together with the day's completion and its audit entry, so an ordinary day is one
    transaction of four statements (D26).
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
    sql, params = _batch_statement(on)
    turning: Counter[int] = Counter()
    batches = 0
    last_id = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    sql, {**params, "after_id": last_id, "limit": batch_size, "now": clock.now()}
                )
                counted = cursor.fetchall()
            read = sum(n for _, n, _ in counted)
            final = read < batch_size
            if read:
                batches += 1
                turning.update({age: n for age, n, _ in counted})
                last_id = max(top for _, _, top in counted)
            if final:
                counts = {age: turning.get(age, 0) for age in TRANSITION_AGES}
                completed = _complete(on, counts, batches=batches, started=started, actor=actor)
        if final:
            return DayResult(on, counts, batches, completed_now=completed)


def _batch_statement(on: dt.date) -> tuple[str, dict[str, object]]:
    """One batch of the cohort's notices as one INSERT ... SELECT; a key already there (a killed or
    concurrent run's) is skipped, and the batch's users are counted whether inserted or not.

    The cohort is MATERIALIZED before its ORDER BY id LIMIT: otherwise the planner walks the
    primary key hoping to meet a few hundred birthdays early, and reads much of the table (D26).
    """
    rows, params = [], {"banned": rules.vocabulary.AccountStatus.BANNED.value}
    for n, age in enumerate(TRANSITION_AGES):
        tier = rules.ages.tier_for_age(age)
        after, upto = rules.ages.birthdates_turning(age, on)
        params.update(
            {
                f"age{n}": age,
                f"tier{n}": tier.value,
                f"subject{n}": _NOTICES[tier][0],
                f"body{n}": _NOTICES[tier][1],
                f"key{n}": f"tier-change:{age}:{on.isoformat()}",
                f"after{n}": after,
                f"upto{n}": upto,
            }
        )
        rows.append(
            f"(%(age{n})s::int, %(tier{n})s, %(subject{n})s, %(body{n})s, %(key{n})s, "
            f"%(after{n})s::date, %(upto{n})s::date)"
        )
    params["kind"] = UserNotice.Kind.TIER_CHANGE.value
    users, notices = User._meta.db_table, UserNotice._meta.db_table
    sql = f"""
        WITH turning (age, tier, subject, body, key, after, upto) AS (VALUES {", ".join(rows)}),
        cohort AS MATERIALIZED (
            SELECT u.id, t.age, t.tier, t.subject, t.body, t.key
            FROM turning t JOIN {users} u ON u.birthdate > t.after AND u.birthdate <= t.upto
            WHERE u.status <> %(banned)s AND u.id > %(after_id)s
        ),
        batch AS (SELECT * FROM cohort ORDER BY id LIMIT %(limit)s),
        written AS (
            INSERT INTO {notices} (user_id, kind, key, tier, subject, body, created_at)
            SELECT id, %(kind)s, key, tier, subject, body, %(now)s FROM batch
            ON CONFLICT (user_id, key) DO NOTHING
        )
        SELECT age, count(*), max(id) FROM batch GROUP BY age
    """
    return sql, params


def _complete(
    on: dt.date, counts: dict[int, int], *, batches: int, started: dt.datetime, actor: object
) -> bool:
    """Mark the day done and audit its summary, once: only the run whose upsert completes the row
    (inserting it, or updating one that a killed run left open) audits."""
    summary = {
        "date": on.isoformat(),
        "turning": {str(age): n for age, n in counts.items()},
        "notices": sum(counts.values()),
        "batches": batches,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {JobRun._meta.db_table} AS r (job, run_date, started_at, completed_at, summary)
            VALUES (%(job)s, %(on)s, %(started)s, %(now)s, %(summary)s::jsonb)
            ON CONFLICT (job, run_date) DO UPDATE
                SET completed_at = EXCLUDED.completed_at, summary = EXCLUDED.summary
                WHERE r.completed_at IS NULL
            RETURNING r.id, r.started_at
            """,
            {
                "job": JOB,
                "on": on,
                "started": started,
                "now": clock.now(),
                "summary": json.dumps(summary),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return False
    audit.record(
        actor=actor,
        action="accounts.birthday_transitions.completed",
        target=JobRun(pk=row[0], job=JOB, run_date=on, started_at=row[1]),
        reason="Tier-change notices for users crossing 13, 16 or 18 (POLICY.md §1, §3).",
        after=summary,
    )
    return True


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
