"""What every moderation manager shares: the permission and case-work checks, and text limits.

The checks only ask the rules (`safety_portal.rules.casework`) and turn a refusal into the error the
doors understand; the case workspace asks the same rules for its buttons (issue 10), so what a
moderator is shown and what they may do cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.errors import Conflict, NotPermitted

EXPLANATION_MAX = 5000
NOTE_MAX = 5000


def staff_permissions(user: object) -> frozenset[str]:
    """The permission codenames an active staff member holds; nothing for anyone else.

    Django caches them on the user object, so asking twice in a request costs one query.
    """
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return frozenset()
    get_all = getattr(user, "get_all_permissions", None)
    return frozenset(get_all()) if get_all is not None else frozenset()


def require_perm(user: object, *perms: str, doing: str) -> None:
    """Refuse with NotPermitted unless `user` is an active staff member holding every permission."""
    refused = rules.casework.missing_permission(staff_permissions(user), perms, doing=doing)
    if refused is not None:
        raise NotPermitted(refused.code, refused.message)


def case_state(case: Any) -> rules.casework.CaseState:
    """The part of a case the case-work rules read."""
    return rules.casework.CaseState(
        status=case.status, claimed_by=case.claimed_by_id, claim_expires_at=case.claim_expires_at
    )


def allowed_case_actions(
    case: Any, user: object, *, at: dt.datetime | None = None
) -> frozenset[rules.casework.Action]:
    """What `user` may do with `case` now: the buttons of the case workspace."""
    return rules.casework.allowed_actions(
        case_state(case),
        user_id=getattr(user, "pk", None) or 0,
        perms=staff_permissions(user),
        at=at or clock.now(),
    )


def case_refusal(
    case: Any, action: rules.casework.Action, *, actor: object, at: dt.datetime | None = None
) -> rules.casework.Refusal | None:
    """Why the rules refuse `action` on `case` by `actor`, or None when they allow it."""
    return rules.casework.refusal(
        case_state(case),
        action,
        user_id=getattr(actor, "pk", None) or 0,
        perms=staff_permissions(actor),
        at=at or clock.now(),
    )


def refuse_unless_allowed(
    case: Any, action: rules.casework.Action, *, actor: object, at: dt.datetime | None = None
) -> None:
    """Raise the rules' refusal of `action` on `case` by `actor` (checked under the row lock)."""
    refused = case_refusal(case, action, actor=actor, at=at)
    if refused is not None:
        raise (Conflict if refused.conflict else NotPermitted)(refused.code, refused.message)


def sibling_model(model: type[models.Model], name: str) -> Any:
    """Another model of the same app, from the app registry at call time.

    The models module imports the managers (a model needs its manager when its class is built),
    so a manager cannot import the models back; the registry is Django's own answer to that.
    """
    return model._meta.apps.get_model(model._meta.app_label, name)
