"""Account status (POLICY.md §3 "hold an active account", §4, §6; decisions D5).

Two rules about statuses, each needed by more than one floor: which stored statuses are time-bound
(a suspension or restriction counts only while the restriction behind it is in force, so it ends
by itself), and how much each status shuts an account down (a decision never loosens the status
it finds: a suspension does not lift a ban or an age review).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .vocabulary import AccountStatus

TIME_BOUND: Final = frozenset({AccountStatus.SUSPENDED, AccountStatus.RESTRICTED})

_RANK: Final = MappingProxyType(
    {
        AccountStatus.ACTIVE: 0,
        AccountStatus.RESTRICTED: 1,
        AccountStatus.SUSPENDED: 2,
        AccountStatus.UNDER_AGE_REVIEW: 3,
        AccountStatus.BANNED: 4,
    }
)


def rank(status: str) -> int:
    """How much `status` shuts the account down: active 0 ... banned 4."""
    return _RANK[AccountStatus(status)]


def is_stricter(new: str, than: str) -> bool:
    """Would moving from `than` to `new` tighten the account? Equal is not stricter."""
    return rank(new) > rank(than)


def effective_status(
    stored: str, *, restriction_in_force: bool, suspended_now: bool
) -> AccountStatus:
    """The status the rules read: a time-bound status lapses with its restriction (D5), and an
    active suspension counts whatever the stored status says."""
    status = AccountStatus(stored)
    if status in TIME_BOUND and not restriction_in_force:
        status = AccountStatus.ACTIVE
    if suspended_now:
        status = AccountStatus.SUSPENDED
    return status


# The statuses that shut contact whatever the restrictions say: not active and not time-bound, so
# they do not lapse by themselves (what the database can refuse without reading restrictions).
NEVER_REACHABLE: Final = frozenset(AccountStatus) - {AccountStatus.ACTIVE} - TIME_BOUND
