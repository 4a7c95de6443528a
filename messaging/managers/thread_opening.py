"""Opening threads and adding people to groups (POLICY.md §3): the doors that let someone in.

Both ask the policy through `contact.py` about everyone the change touches, write the thread or
participant rows and their audit entry in one transaction, and on a refusal write one
`RefusedContactAttempt` instead (and lock the thread when the thread as a whole is now refused).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from accounts.models import User
from safety_portal import rules
from safety_portal.core import audit
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation

from .. import contact
from ..limits import MAX_GROUP_PARTICIPANTS, MAX_TITLE_LENGTH
from ..registry import participant_model, refused_attempt_model
from ..triggers import PARTICIPANT_UNDER_16_CONSTRAINT
from ._common import (
    THREAD_LOCKED,
    acting_for,
    fresh_app_users,
    now_and_today,
    pk_of,
    require_app_user,
)
from .thread_locking import ThreadLocking

if TYPE_CHECKING:
    from ..models import Thread


@contextlib.contextmanager
def refusing_under_16_participants(kind: str) -> Iterator[None]:
    """The database's refusal of an under-16 participant (a birthdate corrected between the
    policy check and the insert) as the policy's reason code (POLICY.md §3; triggers v2)."""
    try:
        yield
    except IntegrityError as exc:
        if constraint_of(exc) != PARTICIPANT_UNDER_16_CONSTRAINT:
            raise
        reason = (
            rules.vocabulary.Reason.DM_RECIPIENT_UNDER_16
            if kind == "direct"
            else rules.vocabulary.Reason.GROUP_MEMBER_UNDER_16
        )
        raise PolicyViolation(reason) from exc


class ThreadOpening(ThreadLocking):
    """The start and add doors of `Thread.objects`; a refused add locks through `ThreadLocking`."""

    def start(
        self,
        *,
        creator: User,
        participants: Sequence[User | int],
        actor: object,
        kind: str | None = None,
        title: str = "",
    ) -> Thread:
        """Start a direct thread (one other person) or a group (`kind="group"`, or 2+ others).

        Direct: `rules.contact.can_direct_message(creator -> other)`; there is one direct thread per pair,
        so starting it again returns it (refused with `thread_locked` while it is locked: a new
        thread must not route round a lock). Group: every member passes `rules.contact.can_join_group`,
        added by the creator (see `contact.py`). Refusals raise `PolicyViolation` and write a
        `RefusedContactAttempt`; bad input raises `DomainError` and writes nothing.
        """
        RefusedContactAttempt, ThreadParticipant = refused_attempt_model(), participant_model()
        via = acting_for(actor, creator, what="start a thread")
        creator_id = pk_of(creator, "creator")
        other_ids = self._participant_ids(creator_id, participants)
        kind = self._kind(kind, other_ids)
        title = self._title(kind, title)
        users = fresh_app_users([creator_id, *other_ids])
        creator = require_app_user(users.get(creator_id), "creator")
        unknown = [i for i in other_ids if i not in users]
        if unknown:
            raise DomainError(
                "invalid",
                "Some participants do not exist.",
                fields={"participants": [f"Unknown user id: {i}." for i in unknown]},
            )
        staff = [i for i in other_ids if users[i].birthdate is None]
        if staff:
            raise DomainError(
                "invalid",
                "Messaging is between app users.",
                fields={"participants": [f"User {i} is a staff account." for i in staff]},
            )
        now, today = now_and_today()
        facts = contact.gather_facts(users.values(), at=now, on=today)
        relations = contact.relations_among([creator_id, *other_ids])
        view = contact.new_thread_view(
            kind=kind,
            creator_id=creator_id,
            other_ids=other_ids,
            relations=relations,
            facts=facts,
            on=today,
        )
        existing = (
            self.direct_between(creator_id, other_ids[0]).first() if kind == "direct" else None
        )
        if existing is not None and existing.locked:
            outcome = contact.Outcome(THREAD_LOCKED, other_ids[0])
        else:
            outcome = contact.start_outcome(view)
            if outcome.allowed and kind == "group":
                # 16-17-year-olds join a group by accepting an invite, never at its start (§7.4).
                outcome = contact.invite_required(view, other_ids) or outcome
        if not outcome.allowed:
            RefusedContactAttempt.objects.record(
                sender=creator,
                recipient_id=outcome.about,
                thread=existing,
                action=RefusedContactAttempt.Action.START,
                reason=outcome.reason,
                sent_via=via,
            )
            raise PolicyViolation(outcome.reason)
        if existing is not None:
            return existing
        with transaction.atomic():
            low, high = sorted([creator_id, other_ids[0]]) if kind == "direct" else (None, None)
            thread = self.model(
                kind=kind,
                creator=creator,
                title=title,
                created_at=now,
                direct_low_id=low,
                direct_high_id=high,
            )
            try:
                with transaction.atomic():
                    thread.save(_door=True, force_insert=True)
            except IntegrityError as exc:
                if kind == "direct":
                    raise Conflict(
                        "thread_exists", "A direct thread between these two was just started."
                    ) from exc
                raise
            with refusing_under_16_participants(kind):
                ThreadParticipant.objects.all()._door_bulk_create(
                    [
                        ThreadParticipant(
                            thread=thread, user_id=uid, added_by_id=creator_id, joined_at=now
                        )
                        for uid in [creator_id, *other_ids]
                    ]
                )
            audit.record(
                actor=actor,
                action="messaging.thread.started",
                target=thread,
                after={
                    "kind": kind,
                    "creator": creator_id,
                    "participants": [creator_id, *other_ids],
                },
            )
        return thread

    @staticmethod
    def _participant_ids(creator_id: int, participants: Sequence[User | int]) -> list[int]:
        if isinstance(participants, str | bytes) or not isinstance(participants, Sequence):
            raise DomainError(
                "invalid", "participants must be a list.", fields={"participants": ["not a list"]}
            )
        ids = [pk_of(p, "participants") for p in participants]
        errors: list[str] = []
        if not ids:
            errors.append("Name at least one other person.")
        if creator_id in ids:
            errors.append("You cannot start a thread with yourself.")
        if len(set(ids)) != len(ids):
            errors.append("Each person can be named once.")
        if len(set(ids) | {creator_id}) > MAX_GROUP_PARTICIPANTS:
            errors.append(f"A thread has at most {MAX_GROUP_PARTICIPANTS} people.")
        if errors:
            raise DomainError(
                "invalid", "The participants are not valid.", fields={"participants": errors}
            )
        return ids

    @staticmethod
    def _kind(kind: str | None, other_ids: Sequence[int]) -> str:
        if kind is None:
            return "direct" if len(other_ids) == 1 else "group"
        if kind not in ("direct", "group"):
            raise DomainError(
                "invalid", "Unknown thread kind.", fields={"kind": ["direct or group"]}
            )
        if kind == "direct" and len(other_ids) != 1:
            raise DomainError(
                "invalid",
                "A direct thread is between two people.",
                fields={"participants": ["A direct thread names exactly one other person."]},
            )
        return kind

    @staticmethod
    def _title(kind: str, title: str) -> str:
        title = (title or "").strip()
        if kind == "direct" and title:
            raise DomainError(
                "invalid", "Direct threads have no title.", fields={"title": ["none"]}
            )
        if len(title) > MAX_TITLE_LENGTH:
            raise DomainError(
                "invalid",
                "The title is too long.",
                fields={"title": [f"At most {MAX_TITLE_LENGTH} characters."]},
            )
        return title

    def add_participant(
        self, thread: Thread | int, *, user: User | int, added_by: User, actor: object
    ) -> Thread:
        """`added_by` (a participant) adds `user` to a group thread.

        POLICY.md §3: `rules.contact.can_join_group(user, added_by=...)` (under 16 never; 16-17 only by
        a friend; no blocks with anyone in the thread; ...). The adder must still be allowed in the
        group themselves, and so must everyone else (otherwise the thread is locked and the add is
        refused with `thread_locked`).
        """
        RefusedContactAttempt = refused_attempt_model()
        via = acting_for(actor, added_by, what="add people to a thread")
        thread_id, user_id, adder_id = (
            pk_of(thread, "thread"),
            pk_of(user, "user"),
            pk_of(added_by, "added_by"),
        )
        now, today = now_and_today()
        with transaction.atomic():
            locked_row, outcome, after = self.check_add(
                thread_id, user_id=user_id, adder_id=adder_id, now=now, today=today
            )
            if outcome.allowed and after is not None:
                # 16-17-year-olds join by accepting an invite, never by being added (§7.4).
                outcome = contact.invite_required(after, [user_id]) or outcome
            if outcome.allowed:
                self.insert_participant(
                    locked_row, user_id=user_id, adder_id=adder_id, now=now, actor=actor
                )
                return locked_row
        self._record_refusal(
            outcome,
            thread=locked_row,
            sender_id=adder_id,
            action=RefusedContactAttempt.Action.ADD,
            via=via,
        )
        raise PolicyViolation(outcome.reason)

    def check_add(
        self, thread_id: int, *, user_id: int, adder_id: int, now: dt.datetime, today: dt.date
    ) -> tuple[Thread, contact.Outcome, contact.ThreadView | None]:
        """Lock the group's row and ask whether `adder_id` may bring `user_id` in (POLICY.md §3):
        the thread, the outcome, and the group as it would be with them in it (None when locked).

        Bad input (not a group, unknown person, already in, full) raises; the caller holds the
        transaction. Shared by a direct add and by an invite, sent or accepted.
        """
        locked_row = self.select_for_update().filter(pk=thread_id).first()
        if locked_row is None:
            raise DomainError("invalid", "Unknown thread.", fields={"thread": ["unknown"]})
        if locked_row.kind != "group":
            raise DomainError(
                "invalid",
                "People are added to group threads only.",
                fields={"thread": ["direct thread"]},
            )
        newcomer = require_app_user(fresh_app_users([user_id]).get(user_id), "user")
        loaded = contact.load_threads([thread_id], at=now, on=today, extra_users=[newcomer])[
            thread_id
        ]
        member_ids = [m.user_id for m in loaded.view.members]
        if adder_id not in member_ids:
            raise NotPermitted("not_a_participant", "Only a participant can add people.")
        if user_id in member_ids:
            raise Conflict("already_participant", "This person is already in the thread.")
        if len(member_ids) >= MAX_GROUP_PARTICIPANTS:
            raise DomainError(
                "invalid",
                "The thread is full.",
                fields={"user": [f"A thread has at most {MAX_GROUP_PARTICIPANTS} people."]},
            )
        if locked_row.locked:
            return locked_row, contact.Outcome(THREAD_LOCKED, user_id), None
        relations = contact.relations_among([user_id], with_ids=member_ids)
        after = contact.with_newcomer(
            loaded.view, new_user_id=user_id, added_by_id=adder_id, relations=relations
        )
        outcome = contact.add_outcome(loaded.view, after, new_user_id=user_id, added_by_id=adder_id)
        return locked_row, outcome, after

    def insert_participant(
        self, thread: Thread, *, user_id: int, adder_id: int, now: dt.datetime, actor: object
    ) -> None:
        """Write the participant row and its audit entry (after `check_add` allowed it)."""
        with refusing_under_16_participants(thread.kind):
            participant_model()(
                thread_id=thread.pk, user_id=user_id, added_by_id=adder_id, joined_at=now
            ).save(_door=True, force_insert=True)
        audit.record(
            actor=actor,
            action="messaging.thread.participant_added",
            target=thread,
            after={"user": user_id, "added_by": adder_id},
        )
