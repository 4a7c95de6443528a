"""A user's notices as the app shows them, and the delivery state the app reports back (issue 12.2).

Every notice the portal writes for an app user lives in one of two tables: moderation's `Notice`
(decisions, a reporter's outcome, appeals, a restriction ended) and `outbox.UserNotice` (age-group
changes, rule changes, the minimum-age sweep). `NoticeFeedItem` reads both as one list; this module
is the one place that moves a notice's delivery state, in whichever table it is:

    written --(the app shows it)--> delivered --(the user opens it)--> read

States only move forward, and each is stamped once: a repeated or late report ("delivered" after
"read") changes nothing, so the app may retry freely. Each change is audited with the client.
"""

from __future__ import annotations

import re

from django.db import models, transaction
from django.db.models.functions import Coalesce

from accounts.models import User
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError
from safety_portal.core.outbox.models import UserNotice

from .models import Notice, NoticeFeedItem

STATES = ("delivered", "read")
_UID = re.compile(r"^(moderation|account)-([1-9][0-9]{0,18})$")


def feed_for(user: User) -> models.QuerySet[NoticeFeedItem]:
    """The user's notices, newest first."""
    return NoticeFeedItem.objects.filter(user_id=user.pk).order_by("-created_at", "-uid")


def mark(user: User, uid: str, state: str, *, actor: object) -> NoticeFeedItem:
    """Record that the app delivered (or the user read) notice `uid` of `user`; audited."""
    if state not in STATES:
        raise DomainError(
            "invalid", "state is delivered or read.", fields={"state": ["delivered or read"]}
        )
    match = _UID.match(uid or "")
    if match is None:
        raise DomainError("not_found", "No notice has this id.")
    source, pk = match.group(1), int(match.group(2))
    model, owner = (Notice, "recipient_id") if source == "moderation" else (UserNotice, "user_id")
    now = clock.now()
    with transaction.atomic():
        mine = Notice.objects.to_app_users() if model is Notice else UserNotice.objects.all()
        rows = mine.select_for_update().filter(pk=pk, **{owner: user.pk})
        before = rows.values("delivered_at", "read_at").first()
        if before is None:
            raise DomainError("not_found", "No notice has this id for this user.")
        changes = {"delivered_at": Coalesce(models.F("delivered_at"), models.Value(now))}
        if state == "read":
            changes["read_at"] = Coalesce(models.F("read_at"), models.Value(now))
        model.objects.filter(pk=pk).update(**changes)
        after = model.objects.filter(pk=pk).values("delivered_at", "read_at").get()
        if after != before:
            audit.record(
                actor=actor,
                action="notices.state.changed",
                target=user,
                reason=f"The app reported notice {uid} {state}.",
                before={"notice": uid, **before},
                after={"notice": uid, **after},
            )
    return NoticeFeedItem.objects.get(uid=uid)
