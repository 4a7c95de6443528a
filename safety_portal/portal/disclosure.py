"""Audited reads of the most sensitive fields, as the portal's pages call them (issue 5: "exact
birthdates (each view of one is audited)").

One door: the rule (senior role, a reason) and the audit entry live in the accounts managers
(`User.objects.reveal_birthdate`, `BirthdateChangeRequest.objects.reveal_dates`), which the API
can call too; this module only names them for the pages.
"""

from __future__ import annotations

import datetime as dt

from accounts.managers import PERM_EXACT_BIRTHDATE
from accounts.models import BirthdateChangeRequest, User

__all__ = ["PERM_EXACT_BIRTHDATE", "reveal_birthdate", "reveal_request_dates"]


def reveal_birthdate(user: User, *, actor: User, reason: str) -> dt.date:
    """The exact birthdate; the read and its `accounts.birthdate.viewed` entry are the manager's."""
    return User.objects.reveal_birthdate(user, actor=actor, reason=reason)


def reveal_request_dates(
    request: BirthdateChangeRequest, *, actor: User, reason: str
) -> tuple[dt.date, dt.date]:
    """The old and new birthdates of a change request, for the reviewer; audited as a view."""
    return BirthdateChangeRequest.objects.reveal_dates(request, actor=actor, reason=reason)
