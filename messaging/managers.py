"""Messaging's read vocabulary and its guarded writes: the only doors (STYLE.md idea 2).

Every door validates its input (`DomainError` with field errors, before anything is written), asks
the policy through `contact.py` (`PolicyViolation` with the POLICY.md §3 reason code, or
`thread_locked`), writes, and records its audit entry in the same transaction. The acting person is
a keyword-only argument with no default (STYLE.md idea 4): an app user acting for themselves passes
themselves; the app's API client passes itself and names the user as `sender`/`follower`/...; a
job passes a `SystemActor`. An app user may act only for themselves.

What is audited: follows and unfollows, blocks and unblocks, thread starts, participant adds, locks
and unlocks, moderation-state changes and staff reads (`services.py`). A message send is not: it is
the user's own content, not an account change or a staff action; each message records who sent it
through what (`sent_via`). A refused start, add or send writes one `RefusedContactAttempt` row (the
contact-risk signal of issue 4) and no audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import SystemActor, identify
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation

from . import contact, snapshot
from .guards import GuardedQuerySet
from .limits import (
    MAX_BODY_LENGTH,
    MAX_GROUP_PARTICIPANTS,
    MAX_LOCK_DETAIL_LENGTH,
    MAX_TITLE_LENGTH,
)
from .triggers import THREAD_LOCKED_CONSTRAINT

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Block, Connection, Message, RefusedContactAttempt, Thread

THREAD_LOCKED = contact.THREAD_LOCKED
SEND_CHECK_ACTOR = SystemActor("messaging.send_check")


# --------------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------------


def _user_model() -> type[User]:
    from accounts.models import User

    return User


def _sent_via(actor: object) -> str:
    who = identify(actor)  # TypeError for None or anything that cannot act
    return f"{who.kind}:{who.id}"[:100]


def _acting_for(actor: object, person: User, *, what: str) -> str:
    """An app user acts only for themselves; API clients and jobs act for the person named."""
    via = _sent_via(actor)
    if isinstance(actor, _user_model()) and actor.pk != _pk(person, "user"):
        raise NotPermitted("not_permitted", f"A person can only {what} for themselves.")
    return via


def _fresh_app_users(ids: Iterable[int]) -> dict[int, User]:
    return {u.pk: u for u in _user_model().objects.filter(pk__in=list(ids))}


def _pk(value: object, field: str) -> int:
    pk = getattr(value, "pk", value)
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise DomainError(
            "invalid", f"{field} must be a user or a user id.", fields={field: ["not a user"]}
        )
    return pk


def _require_app_user(user: User | None, field: str) -> User:
    if user is None:
        raise DomainError("invalid", f"Unknown {field}.", fields={field: ["unknown user"]})
    if user.birthdate is None:
        raise DomainError(
            "invalid",
            f"The {field} is a staff account; messaging is between app users.",
            fields={field: ["not an app user"]},
        )
    return user


def _sanction(setting: str, row_id: int) -> None:
    """Name the row this transaction may change past a PostgreSQL trigger (see `triggers.py`)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [setting, str(row_id)])


def _now_and_today() -> tuple[dt.datetime, dt.date]:
    now = clock.now()
    return now, clock.today()


# --------------------------------------------------------------------------------------------------
# Follows and blocks
# --------------------------------------------------------------------------------------------------


class ConnectionQuerySet(GuardedQuerySet):
    def between(self, a: User | int, b: User | int) -> ConnectionQuerySet:
        """Follows either way between two people."""
        return self.filter(Q(follower=a, followee=b) | Q(follower=b, followee=a))

    def of(self, user: User | int) -> ConnectionQuerySet:
        return self.filter(Q(follower=user) | Q(followee=user))


class ConnectionManager(models.Manager.from_queryset(ConnectionQuerySet)):  # type: ignore[misc]
    """Follows. Friends are people who follow each other (POLICY.md §3)."""

    def are_friends(self, a: User | int, b: User | int) -> bool:
        """Mutual follow, in one query."""
        if _pk(a, "a") == _pk(b, "b"):
            return False
        return self.between(a, b).count() == 2

    def follow(self, *, follower: User, followee: User, actor: object) -> Connection:
        """`follower` follows `followee` (idempotent). Refused across a block (POLICY.md §3:
        a block ends all contact both ways)."""
        from .models import Block

        _acting_for(actor, follower, what="follow someone")
        ids = _pk(follower, "follower"), _pk(followee, "followee")
        users = _fresh_app_users(ids)
        follower = _require_app_user(users.get(ids[0]), "follower")
        followee = _require_app_user(users.get(ids[1]), "followee")
        if follower.pk == followee.pk:
            raise DomainError(
                "invalid", "Nobody follows themselves.", fields={"followee": ["yourself"]}
            )
        with transaction.atomic():
            existing = self.filter(follower=follower, followee=followee).first()
            if existing is not None:
                return existing  # nothing changes, so a block since then changes nothing either
            if Block.objects.between(follower, followee).exists():
                raise PolicyViolation(rules.vocabulary.Reason.DM_BLOCKED)
            row = self.model(follower=follower, followee=followee, created_at=clock.now())
            try:
                with transaction.atomic():
                    row.save(_door=True, force_insert=True)
            except IntegrityError:
                # A concurrent follow of the same pair won the race: that row is the answer.
                return self.get(follower=follower, followee=followee)
            mutual = self.filter(follower=followee, followee=follower).exists()
            audit.record(
                actor=actor,
                action="messaging.connection.followed",
                target=row,
                after={"follower": follower.pk, "followee": followee.pk, "friends": mutual},
            )
        return row

    def unfollow(self, *, follower: User, followee: User, actor: object) -> bool:
        """Stop following. When that ends a friendship, every thread the two share that the policy
        would now refuse is locked (POLICY.md §3; issue 3 "a friendship ends"). False if there was
        nothing to undo."""
        from .models import Thread

        _acting_for(actor, follower, what="unfollow someone")
        with transaction.atomic():
            row = (
                self.select_for_update()
                .filter(follower=_pk(follower, "follower"), followee=_pk(followee, "followee"))
                .first()
            )
            if row is None:
                return False
            were_friends = self.filter(follower=row.followee_id, followee=row.follower_id).exists()
            audit.record(
                actor=actor,
                action="messaging.connection.unfollowed",
                target=row,
                before={
                    "follower": row.follower_id,
                    "followee": row.followee_id,
                    "friends": were_friends,
                },
            )
            row.delete(_door=True)
            if were_friends:
                Thread.objects.relock_shared(
                    [row.follower_id, row.followee_id],
                    source=Thread.LockSource.UNFOLLOW,
                    actor=actor,
                )
        return True


class BlockQuerySet(GuardedQuerySet):
    def between(self, a: User | int, b: User | int) -> BlockQuerySet:
        """Blocks either way between two people."""
        return self.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a))

    def involving(self, user: User | int) -> BlockQuerySet:
        return self.filter(Q(blocker=user) | Q(blocked=user))


class BlockManager(models.Manager.from_queryset(BlockQuerySet)):  # type: ignore[misc]
    """Blocks: no contact either way (POLICY.md §3)."""

    def is_blocked(self, a: User | int, b: User | int) -> bool:
        return self.between(a, b).exists()

    def block(self, *, blocker: User, blocked: User, actor: object) -> Block:
        """Block someone (idempotent); every thread the two share is locked at once (§3)."""
        from .models import Thread

        _acting_for(actor, blocker, what="block someone")
        ids = _pk(blocker, "blocker"), _pk(blocked, "blocked")
        users = _fresh_app_users(ids)
        blocker = _require_app_user(users.get(ids[0]), "blocker")
        blocked = _require_app_user(users.get(ids[1]), "blocked")
        if blocker.pk == blocked.pk:
            raise DomainError(
                "invalid", "Nobody blocks themselves.", fields={"blocked": ["yourself"]}
            )
        with transaction.atomic():
            existing = self.filter(blocker=blocker, blocked=blocked).first()
            if existing is not None:
                return existing
            row = self.model(blocker=blocker, blocked=blocked, created_at=clock.now())
            try:
                with transaction.atomic():
                    row.save(_door=True, force_insert=True)
            except IntegrityError:
                return self.get(blocker=blocker, blocked=blocked)
            audit.record(
                actor=actor,
                action="messaging.block.created",
                target=row,
                after={"blocker": blocker.pk, "blocked": blocked.pk},
            )
            Thread.objects.relock_shared(
                [blocker.pk, blocked.pk], source=Thread.LockSource.BLOCK, actor=actor
            )
        return row

    def unblock(self, *, blocker: User, blocked: User, actor: object) -> bool:
        """Lift a block. Threads it locked stay locked: unlocking is explicit (issue 3)."""
        _acting_for(actor, blocker, what="unblock someone")
        with transaction.atomic():
            row = (
                self.select_for_update()
                .filter(blocker=_pk(blocker, "blocker"), blocked=_pk(blocked, "blocked"))
                .first()
            )
            if row is None:
                return False
            audit.record(
                actor=actor,
                action="messaging.block.removed",
                target=row,
                before={"blocker": row.blocker_id, "blocked": row.blocked_id},
            )
            row.delete(_door=True)
        return True


# --------------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------------


class ThreadQuerySet(GuardedQuerySet):
    def for_user(self, user: User | int) -> ThreadQuerySet:
        """Threads the person is in, newest first (locked ones included: their messages stay)."""
        from .models import ThreadParticipant

        return self.filter(
            Exists(ThreadParticipant.objects.filter(thread_id=OuterRef("pk"), user=user))
        ).order_by("-created_at", "-id")

    def shared_by(self, a: User | int, b: User | int) -> ThreadQuerySet:
        from .models import ThreadParticipant

        return self.for_user(a).filter(
            Exists(ThreadParticipant.objects.filter(thread_id=OuterRef("pk"), user=b))
        )

    def unlocked(self) -> ThreadQuerySet:
        return self.filter(locked=False)

    def locked(self) -> ThreadQuerySet:
        return self.filter(locked=True)

    def direct_between(self, a: User | int, b: User | int) -> ThreadQuerySet:
        low, high = sorted([_pk(a, "a"), _pk(b, "b")])
        return self.filter(kind="direct", direct_low=low, direct_high=high)


class ThreadManager(models.Manager.from_queryset(ThreadQuerySet)):  # type: ignore[misc]
    """Starting threads, adding people, locking and unlocking (POLICY.md §3)."""

    # ---- start -----------------------------------------------------------------------------------

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
        from .models import RefusedContactAttempt, Thread, ThreadParticipant

        via = _acting_for(actor, creator, what="start a thread")
        creator_id = _pk(creator, "creator")
        other_ids = self._participant_ids(creator_id, participants)
        kind = self._kind(kind, other_ids)
        title = self._title(kind, title)
        users = _fresh_app_users([creator_id, *other_ids])
        creator = _require_app_user(users.get(creator_id), "creator")
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
        now, today = _now_and_today()
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
            thread = Thread(
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
        ids = [_pk(p, "participants") for p in participants]
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

    # ---- add -------------------------------------------------------------------------------------

    def add_participant(
        self, thread: Thread | int, *, user: User | int, added_by: User, actor: object
    ) -> Thread:
        """`added_by` (a participant) adds `user` to a group thread.

        POLICY.md §3: `rules.contact.can_join_group(user, added_by=...)` (under 16 never; 16-17 only by
        a friend; no blocks with anyone in the thread; ...). The adder must still be allowed in the
        group themselves, and so must everyone else (otherwise the thread is locked and the add is
        refused with `thread_locked`).
        """
        from .models import RefusedContactAttempt, ThreadParticipant

        via = _acting_for(actor, added_by, what="add people to a thread")
        thread_id, user_id, adder_id = (
            _pk(thread, "thread"),
            _pk(user, "user"),
            _pk(added_by, "added_by"),
        )
        now, today = _now_and_today()
        with transaction.atomic():
            locked_row = self.select_for_update().filter(pk=thread_id).first()
            if locked_row is None:
                raise DomainError("invalid", "Unknown thread.", fields={"thread": ["unknown"]})
            if locked_row.kind != "group":
                raise DomainError(
                    "invalid",
                    "People are added to group threads only.",
                    fields={"thread": ["direct thread"]},
                )
            newcomer = _require_app_user(_fresh_app_users([user_id]).get(user_id), "user")
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
                outcome = contact.Outcome(THREAD_LOCKED, user_id)
            else:
                relations = contact.relations_among([user_id], with_ids=member_ids)
                after = contact.with_newcomer(
                    loaded.view, new_user_id=user_id, added_by_id=adder_id, relations=relations
                )
                outcome = contact.add_outcome(
                    loaded.view, after, new_user_id=user_id, added_by_id=adder_id
                )
            if outcome.allowed:
                ThreadParticipant(
                    thread_id=thread_id, user_id=user_id, added_by_id=adder_id, joined_at=now
                ).save(_door=True, force_insert=True)
                audit.record(
                    actor=actor,
                    action="messaging.thread.participant_added",
                    target=locked_row,
                    after={"user": user_id, "added_by": adder_id},
                )
                return locked_row
        with transaction.atomic():
            RefusedContactAttempt.objects.record(
                sender_id=adder_id,
                recipient_id=outcome.about,
                thread=locked_row,
                action=RefusedContactAttempt.Action.ADD,
                reason=outcome.reason,
                sent_via=via,
            )
            if outcome.lock is not None:
                self._lock_by_policy(locked_row.pk, outcome.lock)
        raise PolicyViolation(outcome.reason)

    # ---- lock / unlock ---------------------------------------------------------------------------

    def lock(
        self,
        thread: Thread | int,
        *,
        reason: str,
        actor: object,
        source: str,
        detail: str = "",
    ) -> Thread:
        """Lock a thread: messages kept, nobody can post or join (POLICY.md §3). Idempotent: a
        locked thread keeps its first lock's reason. `reason` is a short code (a policy `Reason`
        value, or a staff code such as "harassment"); `source` is a `Thread.LockSource`."""
        from .models import Thread

        identify(actor)
        reason = (reason or "").strip()
        errors: dict[str, list[str]] = {}
        if not reason or len(reason) > 40:
            errors["reason"] = ["A reason code of 1 to 40 characters is required."]
        if source not in Thread.LockSource.values:
            errors["source"] = [f"One of: {', '.join(Thread.LockSource.values)}."]
        if len(detail) > MAX_LOCK_DETAIL_LENGTH:
            errors["detail"] = [f"At most {MAX_LOCK_DETAIL_LENGTH} characters."]
        if errors:
            raise DomainError("invalid", "The lock is not valid.", fields=errors)
        thread_id = _pk(thread, "thread")
        with transaction.atomic():
            self._lock_row(thread_id, reason=reason, source=source, actor=actor, detail=detail)
            return self.get(pk=thread_id)

    def unlock(self, thread: Thread | int, *, actor: object, reason: str) -> Thread:
        """Reopen a locked thread: the explicit action of issue 3 (threads never reopen by
        themselves). Refused with the policy's code while the thread would still be refused."""
        identify(actor)
        if not (reason or "").strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        thread_id = _pk(thread, "thread")
        now, today = _now_and_today()
        with transaction.atomic():
            row = self.select_for_update().filter(pk=thread_id).first()
            if row is None:
                raise DomainError("invalid", "Unknown thread.", fields={"thread": ["unknown"]})
            if not row.locked:
                raise Conflict("not_locked", "This thread is not locked.")
            loaded = contact.load_threads([thread_id], at=now, on=today)[thread_id]
            refusal = contact.thread_refusal(loaded.view)
            if refusal is not None:
                raise PolicyViolation(
                    refusal.reason,
                    f"The thread cannot be unlocked: the policy still refuses it ({refusal.reason}).",
                )
            before = {
                "locked_reason": row.locked_reason,
                "locked_source": row.locked_source,
                "locked_at": row.locked_at,
            }
            _sanction("safety_portal.thread_unlock", thread_id)
            self.filter(pk=thread_id)._door_update(
                locked=False, locked_reason="", locked_source="", locked_detail="", locked_at=None
            )
            audit.record(
                actor=actor,
                action="messaging.thread.unlocked",
                target=row,
                reason=reason,
                before=before,
                after={"locked": False},
            )
            return self.get(pk=thread_id)

    def _lock_row(
        self, thread_id: int, *, reason: str, source: str, actor: object, detail: str = ""
    ) -> bool:
        """Lock one thread if it is not locked yet (conditional update), audited. In a transaction."""
        changed = self.filter(pk=thread_id, locked=False)._door_update(
            locked=True,
            locked_reason=reason,
            locked_source=source,
            locked_detail=detail[:MAX_LOCK_DETAIL_LENGTH],
            locked_at=clock.now(),
        )
        if changed:
            audit.record(
                actor=actor,
                action="messaging.thread.locked",
                target_type="messaging.thread",
                target_id=str(thread_id),
                target_label=f"Thread {thread_id}",
                reason=detail or reason,
                after={"locked_reason": reason, "locked_source": source},
            )
        return bool(changed)

    def _lock_by_policy(self, thread_id: int, refusal: contact.Refusal) -> bool:
        from .models import Thread

        about = f" (user {refusal.user_id})" if refusal.user_id is not None else ""
        return self._lock_row(
            thread_id,
            reason=refusal.reason,
            source=Thread.LockSource.SEND_CHECK,
            actor=SEND_CHECK_ACTOR,
            detail=f"The policy refused the thread when someone posted: {refusal.reason}{about}.",
        )

    def relock(self, thread_ids: Iterable[int], *, source: str, actor: object) -> list[int]:
        """Lock every unlocked thread among `thread_ids` that the policy would now refuse.

        The reaction of issue 3 to account changes, blocks and ended friendships: four queries to
        judge all of them, then one conditional update and one audit entry per thread locked.
        Must run inside the transaction of the change that caused it.
        """
        ids = list(self.filter(pk__in=list(thread_ids), locked=False).values_list("pk", flat=True))
        if not ids:
            return []
        now, today = _now_and_today()
        locked: list[int] = []
        for thread_id, loaded in contact.load_threads(ids, at=now, on=today).items():
            refusal = contact.thread_refusal(loaded.view)
            if refusal is None:
                continue
            about = f" (user {refusal.user_id})" if refusal.user_id is not None else ""
            if self._lock_row(
                thread_id,
                reason=refusal.reason,
                source=source,
                actor=actor,
                detail=f"Now refused by the policy: {refusal.reason}{about}.",
            ):
                locked.append(thread_id)
        return locked

    def relock_for_user(self, user: User | int, *, source: str, actor: object) -> list[int]:
        """`relock` over every unlocked thread the person is in."""
        return self.relock(
            self.for_user(user).unlocked().values_list("pk", flat=True), source=source, actor=actor
        )

    def relock_shared(
        self, users: Sequence[User | int], *, source: str, actor: object
    ) -> list[int]:
        """`relock` over the unlocked threads two people share."""
        a, b = users
        return self.relock(
            self.shared_by(a, b).unlocked().values_list("pk", flat=True), source=source, actor=actor
        )

    def lock_all_for_user(
        self, user: User | int, *, reason: str, source: str, actor: object, detail: str = ""
    ) -> list[int]:
        """Lock every unlocked thread the person is in, without asking the policy: for a cause the
        policy states outright (POLICY.md §3: a participant's account restricted -> locked)."""
        ids = list(self.for_user(user).unlocked().values_list("pk", flat=True))
        return [
            tid
            for tid in ids
            if self._lock_row(tid, reason=reason, source=source, actor=actor, detail=detail)
        ]


class ThreadParticipantQuerySet(GuardedQuerySet):
    def of_thread(self, thread: Thread | int) -> ThreadParticipantQuerySet:
        return self.filter(thread=thread).order_by("joined_at", "id")


ThreadParticipantManager = models.Manager.from_queryset(ThreadParticipantQuerySet)


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------


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


class MessageQuerySet(GuardedQuerySet):
    def visible_to(self, user: User | int) -> MessageQuerySet:
        """What a person sees: visible messages of their threads, sent since they joined, newest
        first. Locked threads included (their messages are kept). One query; the first page is an
        ordered scan of `message_visible_recent` probing `participant_unique` (see bench/)."""
        from .models import ThreadParticipant

        return self.filter(
            Exists(
                ThreadParticipant.objects.filter(
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
        from .models import Message, RefusedContactAttempt, Thread

        body = validate_body(body)
        via = _acting_for(actor, sender, what="send messages")
        sender_id, thread_id = _pk(sender, "sender"), _pk(thread, "thread")
        now, today = _now_and_today()
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
            with transaction.atomic():
                RefusedContactAttempt.objects.record(
                    sender_id=sender_id,
                    recipient_id=outcome.about,
                    thread=thread_row,
                    action=RefusedContactAttempt.Action.SEND,
                    reason=outcome.reason,
                    sent_via=via,
                )
                if outcome.lock is not None:
                    Thread.objects._lock_by_policy(thread_row.pk, outcome.lock)
            raise PolicyViolation(outcome.reason)
        message = Message(
            thread_id=thread_id, sender_id=sender_id, body=body, created_at=now, sent_via=via
        )
        try:
            message.save(_door=True, force_insert=True)
        except IntegrityError as exc:
            if _constraint_of(exc) == THREAD_LOCKED_CONSTRAINT:
                raise PolicyViolation(THREAD_LOCKED) from exc
            raise
        return message

    def set_moderation_state(
        self, message: Message | int, state: str, *, actor: object, reason: str
    ) -> Message:
        """Hide, remove or restore a message; never deletes it, and a removed message keeps its
        body (issue 3; DSA art. 17/20: the case record and the appeal need it). Audited as
        `messaging.message.hidden|removed|restored`. Moderation is a staff or system action: an
        app user cannot moderate. Setting the current state again changes nothing."""
        from .models import Message

        identify(actor)
        if isinstance(actor, _user_model()) and not actor.is_staff:
            raise NotPermitted("not_permitted", "Only staff or a moderation job moderate messages.")
        errors: dict[str, list[str]] = {}
        if state not in Message.State.values:
            errors["state"] = [f"One of: {', '.join(Message.State.values)}."]
        if not (reason or "").strip():
            errors["reason"] = ["A reason is required."]
        if errors:
            raise DomainError("invalid", "The moderation change is not valid.", fields=errors)
        message_id = _pk(message, "message")
        with transaction.atomic():
            row = self.select_for_update().filter(pk=message_id).first()
            if row is None:
                raise DomainError("invalid", "Unknown message.", fields={"message": ["unknown"]})
            before = row.moderation_state
            if before == state:
                return row
            _sanction("safety_portal.message_moderation", row.pk)
            row.moderation_state = state
            row.moderation_changed_at = clock.now()
            row.save(_door=True, update_fields=["moderation_state", "moderation_changed_at"])
            verb = "restored" if state == Message.State.VISIBLE else state
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


def _constraint_of(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


# --------------------------------------------------------------------------------------------------
# Refused contact attempts (read by moderation for the contact-risk signal, issue 4)
# --------------------------------------------------------------------------------------------------


class RefusedContactAttemptQuerySet(GuardedQuerySet):
    def by_sender(self, user: User | int) -> RefusedContactAttemptQuerySet:
        return self.filter(sender=user)

    def against(self, user: User | int) -> RefusedContactAttemptQuerySet:
        """Attempts to reach this person."""
        return self.filter(recipient=user)

    def since(self, at: dt.datetime) -> RefusedContactAttemptQuerySet:
        return self.filter(at__gte=at)

    def with_reason(self, *reasons: str) -> RefusedContactAttemptQuerySet:
        return self.filter(reason__in=[str(r) for r in reasons])

    def counts_by_sender(self) -> dict[int, int]:
        return dict(
            self.order_by()
            .values("sender_id")
            .annotate(n=models.Count("id"))
            .values_list("sender_id", "n")
        )


class RefusedContactAttemptManager(
    models.Manager.from_queryset(RefusedContactAttemptQuerySet)  # type: ignore[misc]
):
    def record(
        self,
        *,
        action: str,
        reason: str,
        sent_via: str,
        sender: User | None = None,
        sender_id: int | None = None,
        recipient_id: int | None = None,
        thread: Thread | None = None,
    ) -> RefusedContactAttempt:
        """One row per refusal, written by the doors only (they hold the actor's identity)."""
        row = self.model(
            sender_id=sender_id if sender_id is not None else sender.pk,
            recipient_id=recipient_id,
            thread=thread,
            action=action,
            reason=str(reason),
            at=clock.now(),
            sent_via=sent_via,
        )
        row.save(_door=True, force_insert=True)
        return row


__all__ = [
    "BlockManager",
    "ConnectionManager",
    "MessageManager",
    "RefusedContactAttemptManager",
    "ThreadManager",
    "ThreadParticipantManager",
    "validate_body",
]
