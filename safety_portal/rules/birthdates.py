"""Birthdate changes (POLICY.md §4): younger applies at once, older needs staff and strong assurance."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

from .vocabulary import AssuranceMethod, Decision, Reason


class BirthdateChange(StrEnum):
    """Which way a birthdate-change request moves the user's age (POLICY.md §4)."""

    YOUNGER = "younger"
    OLDER = "older"
    UNCHANGED = "unchanged"


# Stronger than self-declaration (POLICY.md §4). Every recorded method but self-declaration counts;
# the staff reviewer weighs the evidence behind it.
_METHODS_FOR_OLDER: Final = frozenset(AssuranceMethod) - {AssuranceMethod.SELF_DECLARED}


def classify_birthdate_change(
    old: date, new: date, *, method: AssuranceMethod
) -> tuple[BirthdateChange, Decision]:
    """Direction of a birthdate change and whether the request may go ahead (POLICY.md §4).

    - a later birthdate makes the user younger: it only adds protection, so it is allowed and takes
      effect at once;
    - an earlier birthdate makes the user older (and may cross 16 or 18 upward): it never takes
      effect on its own; it may be queued for a staff reviewer only with a method stronger than
      self-declaration, otherwise METHOD_TOO_WEAK. `allowed` here means "may be queued";
    - the same date is refused with BIRTHDATE_UNCHANGED.

    Validating the new date (future, before 1900) is `validate_birthdate`'s job.
    """
    method = AssuranceMethod(method)
    if new == old:
        return BirthdateChange.UNCHANGED, Decision.refuse(Reason.BIRTHDATE_UNCHANGED)
    if new > old:
        return BirthdateChange.YOUNGER, Decision.allow()
    if method not in _METHODS_FOR_OLDER:
        return BirthdateChange.OLDER, Decision.refuse(Reason.METHOD_TOO_WEAK)
    return BirthdateChange.OLDER, Decision.allow()
