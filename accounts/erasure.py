"""Erasing the personal data of a child's account that is being closed (COPPA 16 CFR 312.10).

The decision to close belongs to moderation (`moderation/actions/under_age_closure.py`); what is
erased, and the sanctioned path past the PostgreSQL birthdate guard, belong to the account, so they
live here and nowhere else. Both functions expect the caller's transaction and row lock.

What others need is kept: messages and reports stay with their threads and cases, attributed to
the pseudonymous account, and the append-only audit log is not touched.
"""

from __future__ import annotations

from django.db import connection

from safety_portal.core import clock
from safety_portal.core.errors import Conflict

from .models import AgeAssuranceResult, BirthdateChangeRequest, GuardianLink, LegalHold, User

ERASED_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "password",
    "external_id",
    "birthdate",
)


def refuse_if_held(user: User) -> None:
    """No erasure while evidence is held for the competent authority (issue 12.6): every erasing
    function here asks first, so no job, command or closure can step around a hold."""
    if LegalHold.objects.is_held(user.pk):
        raise Conflict(
            "legal_hold",
            f"Account {user.pk} is on legal hold for a child-safety case: its data cannot be "
            "erased until the child-safety team releases the hold.",
        )


def pseudonymise(user: User) -> None:
    """Replace the names a person could be found by with `closed-<id>` and switch the login off.

    Done first in a closure, so that every audit entry written after it (the status change,
    messaging's reactions) names the pseudonym, never the child's username.
    """
    refuse_if_held(user)
    user.username = f"closed-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.external_id = None
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=[
            "username",
            "email",
            "first_name",
            "last_name",
            "external_id",
            "is_active",
            "password",
            "updated_at",
        ]
    )


def erase_child_data(user: User, *, actor: object, reason: str) -> int:
    """End open guardian links (audited by their manager), clear evidence references, erase the
    age-assurance results (POLICY.md §7.2, §7.6: personal data) and the birthdate through the
    sanctioned path. Returns how many guardian links were ended."""
    refuse_if_held(user)
    links_ended = 0
    for link in GuardianLink.objects.involving(user).exclude(status=GuardianLink.Status.ENDED):
        GuardianLink.objects.end(link, actor=actor, reason=reason)
        links_ended += 1
    BirthdateChangeRequest.objects.filter(user=user).exclude(evidence_reference="").update(
        evidence_reference=""
    )
    sanction_erasure(user.pk)
    AgeAssuranceResult.objects.filter(user=user).erase_for_closure()
    User.objects.filter(pk=user.pk).update(
        birthdate=None, birthdate_set_at=None, updated_at=clock.now()
    )
    return links_ended


def sanction_erasure(user_id: int) -> None:
    """Tell the PostgreSQL birthdate and assurance-result triggers that this transaction erases
    `user_id`'s birthdate and results."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('safety_portal.erasure', %s, true)", [str(user_id)])
