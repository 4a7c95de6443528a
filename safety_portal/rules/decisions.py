"""Moderation decisions (POLICY.md §4, §6): their types, who may take them, how long a
restriction may run, appeal windows (DSA art. 20) and strikes. Times and numbers are arguments.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum

from .priority import CHILD_ABUSE_KEYWORDS
from .sor_schema import Category


class DecisionType(StrEnum):
    NO_VIOLATION = "no_violation"
    WARN = "warn"
    REMOVE_MESSAGES = "remove_messages"
    RESTRICT_FEATURE = "restrict_feature"
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    REQUIRE_AGE_VERIFICATION = "require_age_verification"
    ESCALATE = "escalate"


# Decisions that restrict the user or their content: each needs a ground and produces a statement
# of reasons (POLICY.md §6, DSA art. 17).
RESTRICTING: frozenset[DecisionType] = frozenset(
    {
        DecisionType.REMOVE_MESSAGES,
        DecisionType.RESTRICT_FEATURE,
        DecisionType.SUSPEND,
        DecisionType.TERMINATE,
        DecisionType.REQUIRE_AGE_VERIFICATION,
    }
)
# Upheld violations of our rules add a strike; an age check is not a violation, so it does not.
STRIKING: frozenset[DecisionType] = frozenset(
    {
        DecisionType.WARN,
        DecisionType.REMOVE_MESSAGES,
        DecisionType.RESTRICT_FEATURE,
        DecisionType.SUSPEND,
        DecisionType.TERMINATE,
    }
)
# Decisions that close the case (escalation hands it to senior moderators instead).
FINAL: frozenset[DecisionType] = frozenset(set(DecisionType) - {DecisionType.ESCALATE})
# Decisions that act on an account, so the case must name whose.
ON_ACCOUNT: frozenset[DecisionType] = frozenset(
    {
        DecisionType.WARN,
        DecisionType.RESTRICT_FEATURE,
        DecisionType.SUSPEND,
        DecisionType.TERMINATE,
        DecisionType.REQUIRE_AGE_VERIFICATION,
    }
)
TIMED: frozenset[DecisionType] = frozenset({DecisionType.RESTRICT_FEATURE, DecisionType.SUSPEND})
# Decisions a moderator confirms explicitly before they are taken (issue 15.2): a termination ends
# the account for good and an under-age decision pauses it and starts the 180-day closure clock;
# both are the ones a slip of the keyboard must never take.
NEEDS_CONFIRMATION: frozenset[DecisionType] = frozenset(
    {DecisionType.TERMINATE, DecisionType.REQUIRE_AGE_VERIFICATION}
)

# The longest restriction or suspension a moderator (not a senior) may impose (issue 5, roles).
MODERATOR_MAX_DAYS = 30
MAX_DAYS = 365

# Permission codenames (app label "moderation"); the roles of issue 5 hold them as listed in
# accounts/roles.py. Triage: claim, notes, escalate. Moderator: + decide (up to 30 days), review
# flags. Senior moderator: + longer restrictions, termination, under-age decisions, escalated
# cases, take-over, appeals.
PERM_CLAIM = "moderation.claim_case"
PERM_NOTE = "moderation.add_case_note"
PERM_ESCALATE = "moderation.escalate_case"
PERM_DECIDE = "moderation.decide_case"
PERM_DECIDE_LONG = "moderation.decide_beyond_30_days"
PERM_TERMINATE = "moderation.terminate_account"
PERM_UNDER_AGE = "moderation.decide_under_age"
PERM_SENIOR_QUEUE = "moderation.handle_escalated_case"
PERM_TAKE_OVER = "moderation.take_over_case"
PERM_DECIDE_APPEAL = "moderation.decide_appeal"
PERM_REVIEW_FLAG = "moderation.review_flag"
PERM_EXPORT_SOR = "moderation.export_statements"


def permissions_for(decision: DecisionType, *, days: int | None) -> tuple[str, ...]:
    """Every permission the acting moderator needs for this decision (issue 5, roles).

    Moderators decide up to a 30-day restriction or suspension; longer or open-ended ones,
    terminations and under-age decisions are for senior moderators. ``days`` None on a timed
    decision means "until lifted".
    """
    if decision is DecisionType.ESCALATE:
        return (PERM_ESCALATE,)
    needed = [PERM_DECIDE]
    if decision in TIMED and (days is None or days > MODERATOR_MAX_DAYS):
        needed.append(PERM_DECIDE_LONG)
    if decision is DecisionType.TERMINATE:
        needed.append(PERM_TERMINATE)
    if decision is DecisionType.REQUIRE_AGE_VERIFICATION:
        needed.append(PERM_UNDER_AGE)
    return tuple(dict.fromkeys(needed))


def anonymous_report_allowed(category: str, keywords: frozenset[str] | set[str]) -> bool:
    """DSA art. 16(2)(c): a notice may omit the notifier's name and e-mail only where it concerns
    child sexual abuse (Directive 2011/93/EU arts. 3-7, including grooming, art. 6)."""
    return category == Category.PROTECTION_OF_MINORS and bool(set(keywords) & CHILD_ABUSE_KEYWORDS)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


APPEAL_MONTHS = 6  # DSA art. 20(1): at least six months after the user is told
UNDER_AGE_APPEAL_DAYS = 180  # POLICY.md §4 (TikTok's window in the EEA)


def appeal_deadline(decision: DecisionType, *, notified_at: dt.datetime) -> dt.datetime:
    """When the appeal window closes: 180 days for an under-age decision (POLICY.md §4), six
    calendar months for every other decision (POLICY.md §6, DSA art. 20)."""
    if decision is DecisionType.REQUIRE_AGE_VERIFICATION:
        return notified_at + dt.timedelta(days=UNDER_AGE_APPEAL_DAYS)
    return add_months(notified_at, APPEAL_MONTHS)


class Proposal(StrEnum):
    SUSPEND = "suspend"
    TERMINATE = "terminate"


def strike_proposal(active_strikes: int, *, threshold: int) -> Proposal | None:
    """What crossing the strike threshold proposes to the moderator (issue 4).

    At the threshold a suspension is proposed, at twice the threshold a termination. It is only a
    proposal: no code path applies it; a moderator decides.
    """
    if threshold <= 0 or active_strikes < threshold:
        return None
    return Proposal.TERMINATE if active_strikes >= 2 * threshold else Proposal.SUSPEND


def reporter_is_low_credibility(
    *, upheld: int, rejected: int, min_rejected: int, ratio: float
) -> bool:
    """DSA art. 23: a reporter who frequently files manifestly unfounded notices is marked.

    Marked reporters' reports still make cases; they rank lower (priority.py, this package).
    """
    decided = upheld + rejected
    return rejected >= min_rejected and decided > 0 and rejected / decided >= ratio
