"""Checks and input helpers that more than one accounts manager needs.

Kept in one place so that the rule behind each check (who manages staff, who sees an exact
birthdate, what a valid birthdate is) is written once and every door asks it the same way.
The user model is looked up through `get_user_model()` because `models.py` imports this package:
a module-level import of the models would be a cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from safety_portal import rules
from safety_portal.core import audit
from safety_portal.core.errors import DomainError, NotPermitted

if TYPE_CHECKING:
    from ..models import BirthdateChangeRequest, User

PERM_MANAGE_STAFF = "accounts.manage_staff"
PERM_EXACT_BIRTHDATE = "moderation.view_exact_birthdate"


def _is_active_staff_with(actor: object, perm: str) -> bool:
    return (
        isinstance(actor, get_user_model())
        and actor.is_active
        and actor.is_staff
        and actor.has_perm(perm)
    )


def require_staff_admin(actor: object) -> None:
    """Only an active staff member holding the Administrator's `accounts.manage_staff` (issue 5)."""
    if not _is_active_staff_with(actor, PERM_MANAGE_STAFF):
        raise NotPermitted("not_permitted", "Only an administrator manages staff accounts.")


def require_staff_account(user: User) -> None:
    """Staff doors act on staff accounts only: app users change through moderation (issue 5)."""
    if not user.is_staff:
        raise DomainError(
            "invalid",
            "Only staff accounts are managed here; app users change through moderation.",
            fields={"user": ["not staff"]},
        )


def require_birthdate_viewer(actor: object, reason: str) -> None:
    """Exact birthdates are for senior moderators who say why (issue 5; POLICY.md §1, §4)."""
    if not _is_active_staff_with(actor, PERM_EXACT_BIRTHDATE):
        raise NotPermitted("not_permitted", "Only senior moderators see exact birthdates.")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("invalid", "Say why you need it.", fields={"reason": ["required"]})


def record_birthdate_view(
    actor: object, user: User, *, reason: str, request: BirthdateChangeRequest | None = None
) -> None:
    """`accounts.birthdate.viewed`: who saw whose birthdate and why; never the date itself."""
    audit.record(
        actor=actor,
        action="accounts.birthdate.viewed",
        target=user,
        reason=reason.strip(),
        after={"birthdate_request": request.pk} if request is not None else None,
    )


def _birthdate_message(exc: rules.ages.InvalidBirthdate) -> str:
    return {
        "future": "A birthdate cannot be in the future.",
        "before_1900": "A birthdate before 1900-01-01 is not accepted.",
    }.get(exc.code, str(exc))


def birthdate_errors(birthdate: object, *, on: dt.date) -> list[str]:
    """Field errors for a birthdate (POLICY.md §1): a real date, not in the future, not before 1900.

    A datetime is refused too: it is a `date` subclass that cannot be compared with one, and a
    birthdate has no time of day.
    """
    if not isinstance(birthdate, dt.date) or isinstance(birthdate, dt.datetime):
        return ["A birthdate must be a calendar date (YYYY-MM-DD)."]
    try:
        rules.ages.validate_birthdate(birthdate, on=on)
    except rules.ages.InvalidBirthdate as exc:
        return [_birthdate_message(exc)]
    return []


def unknown_method_message() -> str:
    """The field error for an assurance method that POLICY.md §4 does not list."""
    return "Unknown method; use one of " + ", ".join(
        m.value for m in rules.vocabulary.AssuranceMethod
    )
