"""Case work rules (rules.casework): who may claim, release, take over, escalate, note and decide.

Pure: no database, no clock. The managers raise what `refusal` answers and the workspace shows what
`allowed_actions` answers, so these cases pin down both at once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from safety_portal.rules import casework, decisions
from safety_portal.rules.casework import Action, CaseState

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LIVE = NOW + dt.timedelta(minutes=20)
LAPSED = NOW - dt.timedelta(minutes=1)
ME, OTHER = 7, 8

TRIAGE = {decisions.PERM_CLAIM, decisions.PERM_NOTE, decisions.PERM_ESCALATE}
MODERATOR = TRIAGE | {decisions.PERM_DECIDE}
SENIOR = MODERATOR | {decisions.PERM_SENIOR_QUEUE, decisions.PERM_TAKE_OVER}


def allowed(case: CaseState, perms: set[str], *, user: int = ME) -> set[Action]:
    return set(casework.allowed_actions(case, user_id=user, perms=perms, at=NOW))


def code(case: CaseState, action: Action, perms: set[str], *, user: int = ME) -> str | None:
    refused = casework.refusal(case, action, user_id=user, perms=perms, at=NOW)
    return refused.code if refused else None


def test_an_unclaimed_open_case_can_be_claimed_noted_and_taken_over_but_not_decided() -> None:
    case = CaseState("open", None, None)
    assert allowed(case, SENIOR) == {Action.CLAIM, Action.NOTE, Action.TAKE_OVER}
    assert code(case, Action.DECIDE, SENIOR) == "not_claimer"


def test_the_holder_of_a_live_claim_may_release_escalate_note_and_decide() -> None:
    case = CaseState("open", ME, LIVE)
    assert allowed(case, MODERATOR) == {
        Action.CLAIM,
        Action.RELEASE,
        Action.ESCALATE,
        Action.NOTE,
        Action.DECIDE,
    }


def test_a_lapsed_claim_is_released_by_its_holder_but_decides_nothing() -> None:
    case = CaseState("open", ME, LAPSED)
    assert code(case, Action.RELEASE, MODERATOR) is None
    assert code(case, Action.DECIDE, MODERATOR) == "claim_expired"
    assert code(case, Action.CLAIM, MODERATOR, user=OTHER) is None  # it counts as unclaimed


def test_another_holders_live_claim_blocks_claiming_until_a_senior_takes_over() -> None:
    case = CaseState("open", OTHER, LIVE)
    assert code(case, Action.CLAIM, MODERATOR) == "claimed_by_another"
    assert code(case, Action.RELEASE, MODERATOR) == "not_claimer"
    assert code(case, Action.TAKE_OVER, MODERATOR) == "not_permitted"
    assert code(case, Action.TAKE_OVER, SENIOR) is None


def test_an_escalated_case_is_for_senior_moderators_only() -> None:
    case = CaseState("escalated", ME, LIVE)
    assert code(case, Action.DECIDE, MODERATOR) == "not_permitted"
    assert code(case, Action.CLAIM, MODERATOR, user=OTHER) == "not_permitted"
    assert code(case, Action.DECIDE, SENIOR) is None
    assert code(case, Action.ESCALATE, SENIOR) == "already_escalated"


@pytest.mark.parametrize("action", list(Action))
def test_a_decided_case_allows_nothing(action: Action) -> None:
    assert code(CaseState("decided", ME, LIVE), action, SENIOR) == "case_closed"


def test_the_role_is_checked_before_the_state_so_the_refusal_says_what_to_fix() -> None:
    refused = casework.refusal(
        CaseState("decided", None, None), Action.DECIDE, user_id=ME, perms=TRIAGE, at=NOW
    )
    assert refused is not None
    assert (refused.code, refused.conflict) == ("not_permitted", False)
    assert refused.message == "You do not have the role needed to decide cases."


def test_a_missing_decision_permission_is_named_by_what_the_person_was_doing() -> None:
    refused = casework.missing_permission(
        MODERATOR, decisions.permissions_for(decisions.DecisionType.TERMINATE, days=None),
        doing="decide terminate",
    )  # fmt: skip
    assert refused is not None
    assert refused.message == "You do not have the role needed to decide terminate."
    assert casework.missing_permission(SENIOR, [decisions.PERM_CLAIM], doing="claim") is None


def test_open_statuses_are_open_and_escalated() -> None:
    assert casework.OPEN_STATUSES == ("open", "escalated")
    assert [casework.is_open(s) for s in ("open", "escalated", "decided")] == [True, True, False]
    assert casework.needs_senior("escalated")
    assert not casework.needs_senior("open")
