"""Use cases that span messaging's models: staff reading message bodies.

Message bodies are the most private data the portal holds, many of them minors'. A staff member
reads them only for a reason (a case, or a written justification), and every read writes an audit
entry saying who read whose messages and why, in the same transaction as the read (issue 3;
POLICY.md §6; GDPR art. 5(1)(b) purpose limitation). Lists of messages shown to staff elsewhere use
`Message.objects.without_bodies()`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet

from safety_portal.core import audit
from safety_portal.core.errors import DomainError, NotPermitted

from .limits import DEFAULT_STAFF_READ, MAX_STAFF_READ
from .models import Message, Thread

if TYPE_CHECKING:
    from accounts.models import User

READ_PERMISSION = "messaging.read_message_body"


def read_messages_for_staff(
    *,
    actor: User,
    thread: Thread | None = None,
    user: User | None = None,
    reason: str,
    case: object | None = None,
    limit: int = DEFAULT_STAFF_READ,
    before: dt.datetime | None = None,
    around: Message | None = None,
) -> list[Message]:
    """Messages (bodies included, every moderation state) of one thread or sent by one person.

    Exactly one of `thread` or `user` ("whose messages"). `reason` is the written justification;
    with a `case` (any object with a `pk`, or an id) it may be left empty and the case is the
    reason. The reader is `actor`, a staff member with `messaging.read_message_body` (the Triage
    role and above). Returns at most `limit` messages (<= MAX_STAFF_READ), newest first, older than
    `before` if given. With `around` (a message of `thread`), the reported message in context
    instead: it, up to `limit` messages before it and up to `limit` after it (issue 15.1), both
    sides of the conversation. The audit entry `messaging.messages.read_by_staff` names the reader,
    the thread or person, their participants, the case, the reason and the ids read.
    """
    if not (actor.is_active and actor.is_staff and actor.has_perm(READ_PERMISSION)):
        raise NotPermitted("not_permitted", "Reading message bodies needs the read permission.")
    errors: dict[str, list[str]] = {}
    if (thread is None) == (user is None):
        errors["scope"] = ["Name exactly one thread or one person."]
    case_id = getattr(case, "pk", case)
    reason = (reason or "").strip()
    if not reason and case_id is None:
        errors["reason"] = ["A reason is required: a case, or a written justification."]
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_STAFF_READ:
        errors["limit"] = [f"Between 1 and {MAX_STAFF_READ}."]
    if around is not None and (thread is None or around.thread_id != thread.pk or before):
        errors["around"] = ["A message of the thread read, without `before`."]
    if errors:
        raise DomainError("invalid", "The read request is not valid.", fields=errors)
    if thread is not None:
        rows = Message.objects.in_thread(thread)
        target: Thread | User = thread
        whose = list(
            thread.participants.order_by("joined_at", "id").values_list("user_id", flat=True)
        )
        scope = "thread"
    else:
        assert user is not None
        rows = Message.objects.by_sender(user)
        target, whose, scope = user, [user.pk], "sender"
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    with transaction.atomic():
        if around is not None:
            messages = _around(rows.select_related("sender"), around, limit=limit)
        else:
            messages = list(rows.select_related("sender")[:limit])
        audit.record(
            actor=actor,
            action="messaging.messages.read_by_staff",
            target=target,
            reason=reason or f"case {case_id}",
            after={
                "scope": scope,
                "whose": whose,
                "case": None if case_id is None else str(case_id),
                **({} if around is None else {"around": around.pk}),
                "count": len(messages),
                "message_ids": [m.pk for m in messages],
            },
        )
    return messages


def _around(rows: QuerySet[Message], message: Message, *, limit: int) -> list[Message]:
    """`message` with up to `limit` neighbours on each side, newest first: two ordered scans of
    `message_thread_recent` from the message's position, one each way."""
    at, pk = message.created_at, message.pk
    older = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk)).order_by(
        "-created_at", "-id"
    )[:limit]
    newer = rows.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gte=pk)).order_by(
        "created_at", "id"
    )[: limit + 1]
    return [*reversed(list(newer)), *older]
