"""The checks every messaging door shares: who is acting, for whom, on which rows, at what time.

Private to `messaging.managers`: each function is used by more than one manager module, so it lives
here once instead of being copied into each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from accounts.models import User
from safety_portal.core import clock
from safety_portal.core.audit.actors import SystemActor, identify
from safety_portal.core.errors import DomainError, NotPermitted

from .. import contact

THREAD_LOCKED = contact.THREAD_LOCKED
# Who locks a thread when a send or an add finds that the policy now refuses it.
SEND_CHECK_ACTOR = SystemActor("messaging.send_check")


def sent_via(actor: object) -> str:
    """Who pressed send, as recorded on the row (`kind:id`); refuses anything that cannot act."""
    who = identify(actor)  # TypeError for None or anything that cannot act
    return f"{who.kind}:{who.id}"[:100]


def acting_for(actor: object, person: User | int, *, what: str) -> str:
    """An app user acts only for themselves; API clients and jobs act for the person named."""
    via = sent_via(actor)
    if isinstance(actor, User) and actor.pk != pk_of(person, "user"):
        raise NotPermitted("not_permitted", f"A person can only {what} for themselves.")
    return via


def fresh_app_users(ids: Iterable[int]) -> dict[int, User]:
    """The people named, read again now: a caller's instance may be stale (status, birthdate)."""
    return {u.pk: u for u in User.objects.filter(pk__in=list(ids))}


def pk_of(value: object, field: str) -> int:
    """The id of a user or thread given as an instance or an id; bad input is a field error."""
    pk = getattr(value, "pk", value)
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise DomainError(
            "invalid", f"{field} must be a user or a user id.", fields={field: ["not a user"]}
        )
    return pk


def require_app_user(user: User | None, field: str) -> User:
    """Messaging is between app users: a missing person or a staff account is bad input."""
    if user is None:
        raise DomainError("invalid", f"Unknown {field}.", fields={field: ["unknown user"]})
    if user.birthdate is None:
        raise DomainError(
            "invalid",
            f"The {field} is a staff account; messaging is between app users.",
            fields={field: ["not an app user"]},
        )
    return user


def sanction(setting: str, row_id: int) -> None:
    """Name the row this transaction may change past a PostgreSQL trigger (see `triggers.py`)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [setting, str(row_id)])


def now_and_today() -> tuple[dt.datetime, dt.date]:
    """The moment a door judges at, and the date the age rules read for it (that moment's)."""
    moment = clock.now()
    return moment, clock.date_of(moment)
