"""Birthdate changes (POLICY.md §4): younger applies at once, older needs staff and strong assurance."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from .assurance import correction_requirement, method_satisfies
from .vocabulary import AssuranceMethod, Decision, Reason


class BirthdateChange(StrEnum):
    """Which way a birthdate-change request moves the user's age (POLICY.md §4)."""

    YOUNGER = "younger"
    OLDER = "older"
    UNCHANGED = "unchanged"


def classify_birthdate_change(
    old: date, new: date, *, method: AssuranceMethod, on: date
) -> tuple[BirthdateChange, Decision]:
    """Direction of a birthdate change and whether the request may go ahead (POLICY.md §4).

    - a later birthdate makes the user younger: it only adds protection, so it is allowed and takes
      effect at once;
    - an earlier birthdate makes the user older (and may cross 16 or 18 upward): it never takes
      effect on its own; it may be queued for a staff reviewer only with a method strong enough on
      the ladder of POLICY.md §7.2 (`rules.assurance.correction_requirement`: across 16 or 18 on
      `on`, facial_estimation or stronger; otherwise stronger than self-declaration), else
      METHOD_TOO_WEAK. `allowed` here means "may be queued";
    - the same date is refused with BIRTHDATE_UNCHANGED.

    Validating the new date (future, before 1900) is `validate_birthdate`'s job.
    """
    method = AssuranceMethod(method)
    if new == old:
        return BirthdateChange.UNCHANGED, Decision.refuse(Reason.BIRTHDATE_UNCHANGED)
    if new > old:
        return BirthdateChange.YOUNGER, Decision.allow()
    if not method_satisfies(method, correction_requirement(old, new, on=on)):
        return BirthdateChange.OLDER, Decision.refuse(Reason.METHOD_TOO_WEAK)
    return BirthdateChange.OLDER, Decision.allow()
