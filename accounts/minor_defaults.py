"""Moving existing minors to the rules in force (POLICY.md §7.4, "existing accounts move to the new
defaults by an audited migration with a notice; nothing loosens").

Why a job and not a Django data migration: the move must use today's rules, the audit writer and
the notices as they are (a historical model has none of them), a million rows must not run inside
`migrate`'s one transaction, and a rule change later (a new ceiling) needs the same move again.
So `manage.py apply_minor_defaults` (and the Celery task of the same name) finds the rows that
break the ceilings in one indexed query per tier, in primary-key batches, and moves each account
through `SafetySettings.objects.move_within_rules`: one transaction, one audit entry and one
notice per account, then one summary audit entry. A second run finds nobody (idempotent); a
killed run keeps what it committed (resumable).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock

from .models import SafetySettings, User

JOB = "accounts.apply_minor_defaults"
# The rule change this move carries out; it keys each user's notice (one notice per change).
POLICY = "POLICY.md §7.4 (2025-26 defaults for minors)"
BATCH_SIZE = 500
Tier = rules.vocabulary.Tier


@dataclass(frozen=True)
class MoveResult:
    examined: int
    moved: int
    by_setting: dict[str, int]


def _breaks_rules(tier: Tier) -> Q:
    """Stored values `tier` may not hold: above its ceiling, or a guardian-gated setting looser
    than the default without the guardian's mark (`rules.safety_settings.within_rules`)."""
    ceiling = rules.safety_settings.ceiling(tier)
    conditions = [
        Q(**{f"{name}__in": [_plain(v) for v in looser]})
        for name in rules.safety_settings.SETTING_NAMES
        if (looser := rules.safety_settings.values_looser_than(name, getattr(ceiling, name)))
    ]
    default = rules.safety_settings.default_settings(tier)
    for name in rules.safety_settings.guardian_gated(tier):
        looser = rules.safety_settings.values_looser_than(name, getattr(default, name))
        approved = (
            Q(guardian_approved_public_at__isnull=False) if name == "private_account" else Q()
        )
        conditions.append(Q(**{f"{name}__in": [_plain(v) for v in looser]}) & ~approved)
    return functools.reduce(operator.or_, conditions, Q(pk__in=[]))


def rows_to_move(on: dt.date) -> Q:
    """Settings rows of minors on `on` that break the rules in force: per tier, the tier's
    birthdate range (the indexed age vocabulary) and the values it may not hold."""
    parts = []
    for tier in (Tier.CHILD, Tier.YOUNG_TEEN, Tier.OLDER_TEEN):
        in_tier = User.objects.in_tier(tier, on=on).values("pk")
        parts.append(Q(user__in=in_tier) & _breaks_rules(tier))
    return functools.reduce(operator.or_, parts)


def apply(
    *,
    actor: object,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> MoveResult:
    """Move every minor whose stored settings break today's rules; audited, with notices."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    today = clock.today()
    pending = SafetySettings.objects.filter(rows_to_move(today)).order_by("pk")
    examined = moved = 0
    by_setting: dict[str, int] = {}
    last_pk = 0
    while True:
        batch = list(pending.filter(pk__gt=last_pk).select_related("user")[:batch_size])
        if not batch:
            break
        for row in batch:
            examined += 1
            after = SafetySettings.objects.move_within_rules(row.user, actor=actor, policy=POLICY)
            if after:
                moved += 1
                for name in after:
                    by_setting[name] = by_setting.get(name, 0) + 1
        last_pk = batch[-1].pk
        if progress is not None:
            progress(len(batch))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="accounts.settings.minor_defaults_applied",
            target_type="job",
            target_id=JOB,
            target_label=POLICY,
            reason=POLICY,
            after={"on": today, "examined": examined, "moved": moved, "by_setting": by_setting},
        )
    return MoveResult(examined, moved, by_setting)


def count_pending() -> int:
    return SafetySettings.objects.filter(rows_to_move(clock.today())).count()


def _plain(value: object) -> object:
    return value.value if isinstance(value, rules.vocabulary.Audience) else value
