"""Moderator wellbeing (issue 15.3): the record of a shielded message shown, and the day's count.

Message bodies of harmful cases (`rules.wellbeing.is_harmful`: self-harm, violence, sexual content
involving minors) are blurred in the portal until the moderator reveals them. Each reveal is an
audit entry on the case, written here; the count of harmful cases a moderator decided or revealed
today is read back from those entries and the day's decisions, so it needs no table of its own
(D34). The blur is a shield for the moderator, not an access control: reading the bodies at all is
the audited staff read of `messaging.services.read_messages_for_staff`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from messaging.models import Message
from messaging.services import READ_PERMISSION
from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError

from .managers import require_perm
from .models import Case, Decision

if TYPE_CHECKING:
    from accounts.models import User

REVEAL_ACTION = "moderation.case.content_revealed"


def is_shielded(case: Case) -> bool:
    """Whether the case's message bodies are blurred until revealed (rules.wellbeing)."""
    return rules.wellbeing.is_harmful(case.category, case.keywords or ())


def reveal_message(case: Case, *, message_id: int, actor: User) -> None:
    """Record that `actor` chose to see one blurred message body of `case` (issue 15.3).

    Refused for a case whose bodies are not blurred, and for a message that is not part of the
    case: the reported thread, or a thread its subject takes part in.
    """
    require_perm(actor, "moderation.view_case", READ_PERMISSION, doing="read message text")
    if not is_shielded(case):
        raise DomainError("not_shielded", "This case's messages are not blurred.")
    in_case = Q(thread_id=case.subject_thread_id) if case.subject_thread_id else Q(pk__in=[])
    if case.subject_user_id is not None:
        in_case |= Q(thread__participants__user_id=case.subject_user_id)
    if not Message.objects.without_bodies().filter(in_case, pk=message_id).exists():
        raise DomainError("not_in_case", "That message is not part of this case.")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=REVEAL_ACTION,
            target=case,
            reason="shown by the moderator",
            after={"message_id": message_id, "category": case.category},
        )


def harmful_cases_today(actor: User, *, on: dt.date) -> int:
    """Distinct harmful cases `actor` decided or revealed a message of on the day `on` (local).

    Shown to the moderator alone on their dashboard: a personal measure of exposure, not a
    performance figure (D34).
    """
    start, end = clock.start_of(on), clock.start_of(on + dt.timedelta(days=1))
    decided = Decision.objects.filter(
        decided_by=actor, decided_at__gte=start, decided_at__lt=end
    ).values_list("case_id", "case__category", "case__keywords")
    cases = {
        pk
        for pk, category, keywords in decided
        if rules.wellbeing.is_harmful(category, keywords or ())
    }
    who = identify(actor)
    revealed = (
        AuditEntry.objects.by_actor(who.kind, who.id)
        .filter(action=REVEAL_ACTION, created_at__gte=start, created_at__lt=end)
        .values_list("target_id", flat=True)
    )
    return len(cases | {int(pk) for pk in revealed})
