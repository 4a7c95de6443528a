"""Who may open which portal page: one decorator, permissions from the roles (accounts/roles.py).

Every portal view names the permissions it needs; anonymous visitors are sent to the login page and
staff without the permission get 403. Objects a person may not see are answered with 404 by the
fetch-and-check helpers of each page (STYLE.md idea 8), never by a silent empty page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


def staff_view(
    *perms: str, any_of: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Require a signed-in staff member holding all (or, with any_of, one) of `perms`.

    The second factor is enforced before this by `StaffTwoFactorMiddleware`.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("portal:login"))
            if not user.is_staff:
                raise PermissionDenied("The portal is for staff.")
            if perms:
                held = [user.has_perm(p) for p in perms]
                if not (any(held) if any_of else all(held)):
                    raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        wrapper.portal_perms = perms  # type: ignore[attr-defined]
        return wrapper

    return decorate


def can(request: HttpRequest, perm: str) -> bool:
    return bool(request.user.is_authenticated and request.user.has_perm(perm))


# The evidence blocks of the case workspace (issue 15.1) and the permission each needs, beyond the
# page's own `moderation.view_case`. One table: the view computes a block only for a viewer who
# holds its permission (a block not shown is not queried), the template shows what the view
# computed, and tests/portal/test_permission_walk.py walks every role against it.
EVIDENCE_BLOCKS: dict[str, str] = {
    "people": "moderation.view_case",  # who is involved: username, country, account status
    "ages": "accounts.view_age",  # their age tier and years (never a birthdate)
    "thread": "messaging.read_message_body",  # the reported conversation, opened on request
    "contact_risk": "moderation.view_flag",  # the subject's contact-risk picture
    "prior_reports": "moderation.view_report",
    "prior_decisions": "moderation.view_decision",
    "restrictions": "accounts.view_restriction",
    "strikes": "moderation.view_strike",
    "flags": "moderation.view_flag",
}


def evidence_blocks(user: Any) -> frozenset[str]:
    """The evidence blocks of `EVIDENCE_BLOCKS` this person may see."""
    return frozenset(block for block, perm in EVIDENCE_BLOCKS.items() if user.has_perm(perm))
