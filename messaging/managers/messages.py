"""Messages: what a person sees, and the two doors that write a message (POLICY.md §3; issue 3).

`send` is the only way a message is created and `set_moderation_state` the only way its state
changes; nothing is ever deleted. A send is not audited (it is the user's own content, not an
account change or a staff action): each message records who sent it through what (`sent_via`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save, pre_save

from accounts.models import User
from safety_portal.core import audit, clock, combined_writes
from safety_portal.core.audit.actors import identify
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import DomainError, NotPermitted, PolicyViolation

from .. import contact, snapshot
from ..guards import GuardedQuerySet
from ..limits import MAX_BODY_LENGTH
from ..registry import participant_model, refused_attempt_model, thread_model
from ..triggers import DM_REFUSALS, THREAD_LOCKED_CONSTRAINT
from ._common import THREAD_LOCKED, acting_for, now_and_today, pk_of, sanction

if TYPE_CHECKING:
    from ..models import Message, Thread


def validate_body(body: object) -> str:
    """Bad bodies are bad input (DomainError with a field error), not a policy refusal."""
    if not isinstance(body, str):
        raise DomainError("invalid", "The message is not text.", fields={"body": ["not text"]})
    problems: list[str] = []
    if not body.strip():
        problems.append("A message cannot be empty or only spaces.")
    if len(body) > MAX_BODY_LENGTH:
        problems.append(f"A message has at most {MAX_BODY_LENGTH} characters.")
    if "\x00" in body:
        problems.append("A message cannot contain NUL characters.")
    if problems:
        raise DomainError("invalid", "The message is not valid.", fields={"body": problems})
    return body


def _insert(message: Message) -> None:
    """`save(force_insert=True)` with the statement compiled once: the same signals, the same
    statement and values, the same rollback marking inside an atomic block."""
    db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every field
    if not db.features.can_return_columns_from_insert:
        message.save(_door=True, force_insert=True)
        return
    model = type(message)
    sql, fields, returning_params = combined_writes.compiled_insert(model, db.vendor)
    using = db.alias
    pre_save.send(sender=model, instance=message, raw=False, using=using, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(message, True), db) for f in fields]
    with transaction.mark_for_rollback_on_error(using), db.cursor() as cursor:
        cursor.execute(sql, params)
        (message.pk,) = db.ops.fetch_returned_insert_columns(cursor, returning_params)
    message._state.adding = False
    message._state.db = using
    post_save.send(
        sender=model, instance=message, created=True, update_fields=None, raw=False, using=using
    )


class MessageQuerySet(GuardedQuerySet):
    def visible_to(self, user: User | int) -> MessageQuerySet:
        """What a person sees: visible messages of their threads, sent since they joined, newest
        first. Locked threads included (their messages are kept). One query; the first page is an
        ordered scan of `message_visible_recent` probing `participant_unique` (see bench/)."""
        return self.filter(
            Exists(
                participant_model().objects.filter(
                    thread_id=OuterRef("thread_id"),
                    user=user,
                    joined_at__lte=OuterRef("created_at"),
                )
            ),
            moderation_state="visible",
        ).order_by("-created_at", "-id")

    def in_thread(self, thread: Thread | int) -> MessageQuerySet:
        return self.filter(thread=thread).order_by("-created_at", "-id")

    def by_sender(self, user: User | int) -> MessageQuerySet:
        return self.filter(sender=user).order_by("-created_at", "-id")

    def visible(self) -> MessageQuerySet:
        return self.filter(moderation_state="visible")

    def without_bodies(self) -> MessageQuerySet:
        """For lists shown to staff: bodies are read through `services.read_messages_for_staff`."""
        return self.defer("body")


class MessageManager(models.Manager.from_queryset(MessageQuerySet)):  # type: ignore[misc]
    """The only way a message is created (`send`) or its moderation state changed."""

    def send(self, *, sender: User, thread: Thread | int, body: str, actor: object) -> Message:
        """Post `body` in `thread` as `sender` (POLICY.md §3).

        Refusals (`PolicyViolation`): `thread_locked`; in a direct thread the code of
        `rules.contact.can_direct_message(sender -> other)`; in a group the sender's own `can_join_group`
        code, or `thread_locked` when another member may no longer be in it. A refusal writes a
        `RefusedContactAttempt`, and locks the thread when the thread as a whole is now refused.
        Bad input (`DomainError`): empty or whitespace-only body, longer than `MAX_BODY_LENGTH`,
        unknown thread; `NotPermitted` when the sender is not a participant.

        Cost: two queries whatever the thread's size or the people's history: the participants
        with their relations and policy facts (`snapshot.send_snapshot`), and the INSERT. Not
        wrapped in a transaction of its own: the INSERT is one statement, and the PostgreSQL
        trigger refuses it if the thread was locked after the check (reported as
        `thread_locked`); a lock always commits its UPDATE of the thread row before or after the
        INSERT's snapshot, so a message is either before the lock or refused.
        """
        body = validate_body(body)
        via = acting_for(actor, sender, what="send messages")
        sender_id, thread_id = pk_of(sender, "sender"), pk_of(thread, "thread")
        now, today = now_and_today()
        rows, facts = snapshot.send_snapshot(thread_id, at=now)
        if not rows:
            raise DomainError("invalid", "Unknown thread.", fields={"thread": ["unknown"]})
        thread_row = rows[0].thread
        if sender_id not in {r.user_id for r in rows}:
            raise NotPermitted("not_a_participant", "Only a participant can post in this thread.")
        if thread_row.locked:
            outcome = contact.Outcome(THREAD_LOCKED)
        else:
            view = contact.ThreadView(
                kind=thread_row.kind,
                members=tuple(contact.member_of(r) for r in rows),
                facts=facts,
                on=today,
            )
            outcome = contact.send_outcome(view, sender_id)
        if not outcome.allowed:
            thread_model().objects._record_refusal(
                outcome,
                thread=thread_row,
                sender_id=sender_id,
                action=refused_attempt_model().Action.SEND,
                via=via,
            )
            raise PolicyViolation(outcome.reason)
        message = self.model(
            thread_id=thread_id, sender_id=sender_id, body=body, created_at=now, sent_via=via
        )
        try:
            _insert(message)
        except IntegrityError as exc:
            constraint = constraint_of(exc)
            if constraint == THREAD_LOCKED_CONSTRAINT:
                raise PolicyViolation(THREAD_LOCKED) from exc
            if constraint in DM_REFUSALS:  # a status or birthdate change raced this send
                raise PolicyViolation(DM_REFUSALS[constraint]) from exc
            raise
        return message

    def set_moderation_state(
        self, message: Message | int, state: str, *, actor: object, reason: str
    ) -> Message:
        """Hide, remove or restore a message; never deletes it, and a removed message keeps its
        body (issue 3; DSA art. 17/20: the case record and the appeal need it). Audited as
        `messaging.message.hidden|removed|restored`. Moderation is a staff or system action: an
        app user cannot moderate. Setting the current state again changes nothing."""
        State = self.model.State
        identify(actor)
        if isinstance(actor, User) and not actor.is_staff:
            raise NotPermitted("not_permitted", "Only staff or a moderation job moderate messages.")
        errors: dict[str, list[str]] = {}
        if state not in State.values:
            errors["state"] = [f"One of: {', '.join(State.values)}."]
        if not (reason or "").strip():
            errors["reason"] = ["A reason is required."]
        if errors:
            raise DomainError("invalid", "The moderation change is not valid.", fields=errors)
        message_id = pk_of(message, "message")
        with transaction.atomic():
            row = self.select_for_update().filter(pk=message_id).first()
            if row is None:
                raise DomainError("invalid", "Unknown message.", fields={"message": ["unknown"]})
            before = row.moderation_state
            if before == state:
                return row
            sanction("safety_portal.message_moderation", row.pk)
            row.moderation_state = state
            row.moderation_changed_at = clock.now()
            row.save(_door=True, update_fields=["moderation_state", "moderation_changed_at"])
            verb = "restored" if state == State.VISIBLE else state
            audit.record(
                actor=actor,
                action=f"messaging.message.{verb}",
                target=row,
                reason=reason,
                before={"moderation_state": before},
                after={
                    "moderation_state": state,
                    "sender": row.sender_id,
                    "thread": row.thread_id,
                },
            )
        return row
