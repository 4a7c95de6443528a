"""Audited reads of the most sensitive fields (issue 5: "exact birthdates (each view of one is
audited)"). A read that must leave a trace is a function here, called by the pages that show it.

Candidate for `accounts/managers.py` (the API will need the same read); kept here until then.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction

from safety_portal import audit
from safety_portal.exceptions import DomainError, NotPermitted

if TYPE_CHECKING:
    from accounts.models import BirthdateChangeRequest, User

PERM_EXACT_BIRTHDATE = "moderation.view_exact_birthdate"


def _check(viewer: User, reason: str) -> None:
    if not (viewer.is_active and viewer.is_staff and viewer.has_perm(PERM_EXACT_BIRTHDATE)):
        raise NotPermitted("not_permitted", "Only senior moderators see exact birthdates.")
    if not reason.strip():
        raise DomainError("invalid", "Say why you need it.", fields={"reason": ["required"]})


def reveal_birthdate(user: User, *, viewer: User, reason: str) -> dt.date | None:
    """Return the exact birthdate and record who saw it, whose, and why (same transaction)."""
    _check(viewer, reason)
    with transaction.atomic():
        audit.record(
            actor=viewer,
            action="accounts.birthdate.viewed",
            target=user,
            reason=reason,
        )
    return user.birthdate


def reveal_request_dates(
    request: BirthdateChangeRequest, *, viewer: User, reason: str
) -> tuple[dt.date, dt.date]:
    """The old and new birthdates of a change request, for the reviewer; audited as a view."""
    _check(viewer, reason)
    with transaction.atomic():
        audit.record(
            actor=viewer,
            action="accounts.birthdate.viewed",
            target=request.user,
            reason=reason,
            after={"birthdate_request": request.pk},
        )
    return request.old_birthdate, request.new_birthdate
