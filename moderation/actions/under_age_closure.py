"""Closing under-age accounts whose appeal window passed (issue 7; POLICY.md §4; COPPA 16 CFR 312.10).

The closure belongs with the moderation decision that starts it (issue 10): which accounts are due
reads moderation's decisions; what is erased is the account's business (`accounts/erasure.py`).

POLICY.md §4: a user found to be under the minimum age goes to `under_age_review`, gets a notice and
an appeal open for 180 days, and then the account is closed. Closing means:

- status `banned` with `is_active` off. We use the existing terminal status instead of adding a
  `closed` one: every rule that refuses a banned account (no messages, no login, no notices) is the
  right rule here, and the audit action `accounts.account.closed_under_age` tells the two apart;
- the personal data collected from a child removed (`accounts.erasure`) (COPPA 312.10 keeps it no longer than
  necessary): username replaced by `closed-<id>`, e-mail, names and password cleared, the app's
  `external_id` cleared, the birthdate set to NULL through the sanctioned PostgreSQL path (the
  trigger allows exactly this when the transaction names the user in `safety_portal.erasure`),
  evidence references of birthdate-change requests cleared, open guardian links ended;
- what others need kept: messages and reports are not touched (they stay with their threads and
  open cases, attributed to the pseudonymous account), nor is the append-only audit log.

Which accounts: status `under_age_review` and either
(a) a standing under-age decision whose 180-day window closed without an appeal (moderation's
    `Decision.objects.under_age_unappealed`), or
(b) no standing under-age decision at all (the review came from a corrected birthdate), the status
    unchanged for 180 days, and no pending birthdate-change request (the way such a user appeals).
An account with an appeal or a request still pending stays open until it is decided.

Each closure is its own transaction, re-checks the rule under a row lock, and is audited; running
the job twice, or two at once, closes each account once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from accounts import erasure
from accounts.managers import UserQuerySet
from accounts.models import BirthdateChangeRequest, LegalHold, User
from safety_portal import rules
from safety_portal.core import audit, clock

from ..models import Decision

CLOSED_STATUS = rules.vocabulary.AccountStatus.BANNED
REASON = "Under-age appeal window closed without an appeal (POLICY.md §4)."


@dataclass(frozen=True)
class ClosureRun:
    closed: list[int]
    skipped: int  # candidates another run closed first, or that became ineligible meanwhile


def appeal_window() -> dt.timedelta:
    return dt.timedelta(days=rules.decisions.UNDER_AGE_APPEAL_DAYS)


def closable(*, at: dt.datetime) -> UserQuerySet:
    """Accounts to close at `at` (rules (a) and (b) of the module docstring)."""
    in_review = User.objects.with_status(rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW)
    by_decision = Decision.objects.under_age_unappealed(at=at).filter(target_user=OuterRef("pk"))
    any_standing_decision = Decision.objects.standing().filter(
        type="require_age_verification", target_user=OuterRef("pk")
    )
    pending_request = BirthdateChangeRequest.objects.filter(
        user=OuterRef("pk"), status=BirthdateChangeRequest.Status.PENDING
    )
    by_correction = (
        ~Exists(any_standing_decision)
        & ~Exists(pending_request)
        & Q(status_changed_at__lte=at - appeal_window())
    )
    # Evidence on legal hold for a child-safety case is kept (issue 12.6): the account waits
    # under review until the hold is released; `accounts.erasure` refuses it regardless.
    held = LegalHold.objects.active().filter(user=OuterRef("pk"))
    return in_review.filter(Exists(by_decision) | by_correction).exclude(Exists(held))


def close_expired_reviews(*, actor: object, limit: int = 500) -> ClosureRun:
    """Close every account whose under-age appeal window passed; at most `limit` per run."""
    now = clock.now()
    candidates = list(closable(at=now).order_by("pk").values_list("pk", flat=True)[:limit])
    closed: list[int] = []
    for user_id in candidates:
        if close_account(user_id, actor=actor, at=now):
            closed.append(user_id)
    return ClosureRun(closed=closed, skipped=len(candidates) - len(closed))


def close_account(user_id: int, *, actor: object, at: dt.datetime) -> bool:
    """Close one account if the rule still holds under the row lock; False if it does not."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or not closable(at=at).filter(pk=user_id).exists():
            return False
        erasure.pseudonymise(user)
        # Audited by the manager; messaging locks the user's threads on `status_changed`.
        User.objects.change_status(user, CLOSED_STATUS, actor=actor, reason=REASON)
        links_ended = erasure.erase_child_data(user, actor=actor, reason=REASON)
        audit.record(
            actor=actor,
            action="accounts.account.closed_under_age",
            target=user,
            reason=REASON,
            before={"status": rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW.value},
            after={
                "status": CLOSED_STATUS.value,
                "erased": list(erasure.ERASED_FIELDS),
                "guardian_links_ended": links_ended,
            },
        )
    return True
