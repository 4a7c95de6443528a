"""Case work (issue 5 roles; POLICY.md §6): which case states are open, and who may act on one.

Pure: the case arrives as a `CaseState`, the acting person as their id and permission codenames,
and the time as an argument. `allowed_actions` answers both the moderation services (which refuse
what is not allowed, with `refusal`) and the case workspace (which shows only the buttons allowed),
so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from . import decisions

OPEN: Final = "open"
ESCALATED: Final = "escalated"
OPEN_STATUSES: Final = (OPEN, ESCALATED)


def is_open(status: str) -> bool:
    """A case is open while it waits for a decision, at either level."""
    return status in OPEN_STATUSES


def needs_senior(status: str) -> bool:
    """An escalated case is for senior moderators only: claiming, deciding and taking it over."""
    return status == ESCALATED


def claim_is_live(expires_at: dt.datetime | None, *, at: dt.datetime) -> bool:
    """A claim lapses by itself when it has been idle past its expiry."""
    return expires_at is not None and expires_at > at


class Action(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    TAKE_OVER = "take_over"
    ESCALATE = "escalate"
    NOTE = "note"
    DECIDE = "decide"


@dataclass(frozen=True)
class CaseState:
    status: str
    claimed_by: int | None
    claim_expires_at: dt.datetime | None

    def holder(self, *, at: dt.datetime) -> int | None:
        """Who holds a live claim now, if anyone."""
        return self.claimed_by if claim_is_live(self.claim_expires_at, at=at) else None


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: `conflict` is a state the person can change (claim first, someone
    else holds it), otherwise it is a missing permission."""

    code: str
    message: str
    conflict: bool


_NEEDS: Final = {
    Action.CLAIM: decisions.PERM_CLAIM,
    Action.RELEASE: decisions.PERM_CLAIM,
    Action.TAKE_OVER: decisions.PERM_TAKE_OVER,
    Action.ESCALATE: decisions.PERM_ESCALATE,
    Action.NOTE: decisions.PERM_NOTE,
    Action.DECIDE: decisions.PERM_DECIDE,
}
_DOING: Final = {
    Action.CLAIM: "claim cases",
    Action.RELEASE: "claim cases",
    Action.TAKE_OVER: "take over cases",
    Action.ESCALATE: "escalate cases",
    Action.NOTE: "add notes",
    Action.DECIDE: "decide cases",
}


def _missing(doing: str) -> Refusal:
    return Refusal("not_permitted", f"You do not have the role needed to {doing}.", conflict=False)


def missing_permission(
    perms: Iterable[str], needed: Iterable[str], *, doing: str
) -> Refusal | None:
    """The refusal for a person who lacks one of `needed` (a decision type's own permissions)."""
    return None if frozenset(needed) <= frozenset(perms) else _missing(doing)


def refusal(
    case: CaseState, action: Action, *, user_id: int, perms: Iterable[str], at: dt.datetime
) -> Refusal | None:
    """Why `user_id` may not take `action` on `case` at `at`, or None when they may.

    The checks run in the order a person would fix them: the role first, then the case's state,
    then the claim. Releasing needs no role (whoever holds a claim may give it back, even a lapsed
    one); every other action needs its permission, and claiming, deciding or taking over an
    escalated case needs a senior's. Taking over works whoever holds the case, nobody included
    (a senior takes an unclaimed case that needs their powers in one step).
    """
    perms = frozenset(perms)
    if action is not Action.RELEASE and _NEEDS[action] not in perms:
        return _missing(_DOING[action])
    if not is_open(case.status):
        return Refusal("case_closed", "This case is already decided.", conflict=True)
    senior_only = action in (Action.CLAIM, Action.DECIDE, Action.TAKE_OVER)
    if senior_only and needs_senior(case.status) and decisions.PERM_SENIOR_QUEUE not in perms:
        doing = "decide escalated cases" if action is Action.DECIDE else "take escalated cases"
        return _missing(doing)
    holder = case.holder(at=at)
    if action is Action.CLAIM and holder not in (None, user_id):
        return Refusal("claimed_by_another", "Another moderator holds this case.", conflict=True)
    if action is Action.RELEASE and case.claimed_by != user_id:
        return Refusal(
            "not_claimer", "Only the moderator holding a case releases it.", conflict=True
        )
    if action in (Action.ESCALATE, Action.DECIDE):
        if case.claimed_by != user_id:
            return Refusal(
                "not_claimer",
                "Claim the case first (a senior moderator may take it over).",
                conflict=True,
            )
        if holder != user_id:
            return Refusal(
                "claim_expired", "Your claim went idle and lapsed; claim it again.", conflict=True
            )
    if action is Action.ESCALATE and case.status != OPEN:
        return Refusal(
            "already_escalated", "This case is already with senior moderators.", conflict=True
        )
    return None


def allowed_actions(
    case: CaseState, *, user_id: int, perms: Iterable[str], at: dt.datetime
) -> frozenset[Action]:
    """Every action `user_id` may take on `case` now: the buttons the workspace shows."""
    perms = frozenset(perms)
    return frozenset(
        a for a in Action if refusal(case, a, user_id=user_id, perms=perms, at=at) is None
    )
