"""The case workspace shows a button exactly when the action behind it would succeed (issue 10).

Walks every moderation role through every case state a moderator meets: for each button the
workspace shows or hides, the manager or service behind it is called (inside a savepoint that is
rolled back) and must succeed exactly when the button was shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import RequestFactory

from accounts.models import User
from accounts.roles import Role
from moderation import services
from moderation.models import Case, CaseNote
from safety_portal.core import clock
from safety_portal.core.errors import DomainError
from safety_portal.portal.views.case_workspace import workspace_context
from tests.factories.messaging import person
from tests.factories.moderation import report_user, staff

pytestmark = pytest.mark.django_db

ROLES = [Role.TRIAGE, Role.MODERATOR, Role.SENIOR_MODERATOR]
# (name, status, who holds it, claim expiry relative to now)
STATES = [
    ("unclaimed", "open", None, None),
    ("held by me", "open", "me", dt.timedelta(minutes=20)),
    ("my claim lapsed", "open", "me", -dt.timedelta(minutes=1)),
    ("held by another", "open", "other", dt.timedelta(minutes=20)),
    ("escalated, unclaimed", "escalated", None, None),
    ("escalated, held by me", "escalated", "me", dt.timedelta(minutes=20)),
    ("escalated, held by another", "escalated", "other", dt.timedelta(minutes=20)),
    ("decided", "decided", None, None),
]

ACTIONS: dict[str, Callable[[Case, User], Any]] = {
    "can_claim": lambda case, user: Case.objects.claim(case, actor=user),
    "can_escalate": lambda case, user: Case.objects.escalate(case, actor=user, reason="Needs it."),
    "can_note": lambda case, user: CaseNote.objects.add(case, actor=user, body="Seen."),
    "can_take_over": lambda case, user: Case.objects.take_over(case, actor=user, reason="Mine."),
    "show_decision_form": lambda case, user: services.decide(
        case, actor=user, decision_type="no_violation", facts="The messages break no rule."
    ),
}


def succeeds(action: Callable[[Case, User], Any], case: Case, user: User) -> bool:
    with transaction.atomic():
        try:
            action(Case.objects.get(pk=case.pk), user)
        except DomainError:
            return False
        finally:
            transaction.set_rollback(True)
    return True


def put_in_state(case: Case, *, status: str, holder: User | None, expires: dt.timedelta | None):
    """Test set-up: move the case straight into a state (the columns are not guarded)."""
    now = clock.now()
    Case.objects.filter(pk=case.pk).update(
        status=status,
        claimed_by=holder,
        claimed_at=now if holder else None,
        claim_expires_at=now + expires if expires is not None else None,
        decided_at=now if status == "decided" else None,
    )


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_every_button_shown_is_an_action_allowed_and_every_one_hidden_is_refused(role) -> None:
    me, other = staff(role), staff(Role.SENIOR_MODERATOR)
    case = report_user(person(34), reporter=person(29)).case
    checked = 0
    for name, status, holder, expires in STATES:
        put_in_state(
            case,
            status=status,
            holder={"me": me, "other": other, None: None}[holder],
            expires=expires,
        )
        request = RequestFactory().get("/")
        request.user = User.objects.get(pk=me.pk)
        ctx = workspace_context(request, Case.objects.get(pk=case.pk))
        for button, action in ACTIONS.items():
            allowed = succeeds(action, case, User.objects.get(pk=me.pk))
            if button == "can_take_over" and not ctx["held_by_other"]:
                # Offered only against another holder; allowed otherwise too (a senior may take
                # an unclaimed case in one step), so a hidden button here is not a refusal.
                assert not ctx[button], (role, name)
                continue
            assert ctx[button] == allowed, (role.value, name, button, ctx[button], allowed)
            checked += 1
    assert checked == len(STATES) * len(ACTIONS) - sum(
        1 for _, _, holder, _ in STATES if holder != "other"
    )
