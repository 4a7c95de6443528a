"""Group invites (POLICY.md §7.4): how a 16-17-year-old joins a group thread.

The Commission's art. 28 guidelines ask that minors are not put into group chats without their
agreement; the policy makes it an invite the teen accepts. An invite is checked when it is sent
(the same rules as adding someone: the inviter's standing, the invitee's age and settings, a friend,
no blocks) and again when it is accepted (things change in between: a block, a birthday, a
restriction), in the group's own lock, and the participant row is written only then. Every send,
accept and decline is audited; a refused invite writes a `RefusedContactAttempt` like a refused add.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction

from safety_portal.core import audit
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation

from ..guards import GuardedQuerySet
from ..registry import refused_attempt_model, thread_model
from ._common import acting_for, now_and_today, pk_of

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import GroupInvite


class GroupInviteQuerySet(GuardedQuerySet):
    def pending(self) -> GroupInviteQuerySet:
        return self.filter(status="pending")

    def for_invitee(self, user: User | int) -> GroupInviteQuerySet:
        return self.filter(invitee=user)


class GroupInviteManager(models.Manager.from_queryset(GroupInviteQuerySet)):  # type: ignore[misc]
    def send(
        self, *, thread: object, invitee: User | int, invited_by: User, actor: object
    ) -> GroupInvite:
        """`invited_by` (a participant) invites `invitee` to a group (POLICY.md §3, §7.4).

        Refused with the same reason codes as adding them (`group_add_not_friend`, ...); one
        pending invite per person and group (409 `already_invited`).
        """
        via = acting_for(actor, invited_by, what="invite people to a thread")
        thread_id, invitee_id, inviter_id = (
            pk_of(thread, "thread"),
            pk_of(invitee, "invitee"),
            pk_of(invited_by, "invited_by"),
        )
        now, today = now_and_today()
        threads = thread_model().objects
        with transaction.atomic():
            locked_row, outcome, _after = threads.check_add(
                thread_id, user_id=invitee_id, adder_id=inviter_id, now=now, today=today
            )
            if outcome.allowed:
                invite = self.model(
                    thread=locked_row,
                    invitee_id=invitee_id,
                    invited_by_id=inviter_id,
                    created_at=now,
                )
                try:
                    with transaction.atomic():
                        invite.save(_door=True, force_insert=True)
                except IntegrityError as exc:
                    raise Conflict(
                        "already_invited", "This person already has an invite to this group."
                    ) from exc
                audit.record(
                    actor=actor,
                    action="messaging.group_invite.sent",
                    target=locked_row,
                    after={"invite": invite.pk, "invitee": invitee_id, "invited_by": inviter_id},
                )
                return invite
        threads._record_refusal(
            outcome,
            thread=locked_row,
            sender_id=inviter_id,
            action=refused_attempt_model().Action.ADD,
            via=via,
        )
        raise PolicyViolation(outcome.reason)

    def accept(self, invite: GroupInvite | int, *, invitee: User, actor: object) -> GroupInvite:
        """The invitee accepts: the add is checked again as of now, then they join (audited)."""
        acting_for(actor, invitee, what="accept an invite")
        now, today = now_and_today()
        threads = thread_model().objects
        with transaction.atomic():
            row = self._pending_for(invite, invitee)
            locked_row, outcome, _after = threads.check_add(
                row.thread_id,
                user_id=row.invitee_id,
                adder_id=row.invited_by_id,
                now=now,
                today=today,
            )
            if outcome.allowed:
                threads.insert_participant(
                    locked_row,
                    user_id=row.invitee_id,
                    adder_id=row.invited_by_id,
                    now=now,
                    actor=actor,
                )
                self._decide(row, "accepted", now=now, actor=actor)
                return row
        raise PolicyViolation(outcome.reason)

    def decline(self, invite: GroupInvite | int, *, invitee: User, actor: object) -> GroupInvite:
        """The invitee declines; nothing else changes (audited)."""
        acting_for(actor, invitee, what="decline an invite")
        now, _today = now_and_today()
        with transaction.atomic():
            row = self._pending_for(invite, invitee)
            self._decide(row, "declined", now=now, actor=actor)
        return row

    def _pending_for(self, invite: GroupInvite | int, invitee: User) -> GroupInvite:
        invite_id = pk_of(invite, "invite")
        row = self.select_for_update().filter(pk=invite_id).first()
        if row is None:
            raise DomainError("invalid", "Unknown invite.", fields={"invite": ["unknown"]})
        if row.invitee_id != pk_of(invitee, "invitee"):
            raise NotPermitted("not_the_invitee", "Only the person invited can answer an invite.")
        if row.status != "pending":
            raise Conflict("invite_answered", f"This invite was already {row.status}.")
        return row

    def _decide(self, row: GroupInvite, status: str, *, now: object, actor: object) -> None:
        row.status, row.decided_at = status, now
        row.save(_door=True, update_fields=["status", "decided_at"])
        audit.record(
            actor=actor,
            action=f"messaging.group_invite.{status}",
            target=row.thread,
            after={"invite": row.pk, "invitee": row.invitee_id},
        )
