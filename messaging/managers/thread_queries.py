"""The read vocabulary of threads and their participants, which every thread door builds on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef

from accounts.models import User

from ..guards import GuardedQuerySet
from ..registry import participant_model
from ._common import pk_of

if TYPE_CHECKING:
    from ..models import Thread


class ThreadQuerySet(GuardedQuerySet):
    def for_user(self, user: User | int) -> ThreadQuerySet:
        """Threads the person is in, newest first (locked ones included: their messages stay)."""
        return self.filter(
            Exists(participant_model().objects.filter(thread_id=OuterRef("pk"), user=user))
        ).order_by("-created_at", "-id")

    def shared_by(self, a: User | int, b: User | int) -> ThreadQuerySet:
        return self.for_user(a).filter(
            Exists(participant_model().objects.filter(thread_id=OuterRef("pk"), user=b))
        )

    def unlocked(self) -> ThreadQuerySet:
        return self.filter(locked=False)

    def locked(self) -> ThreadQuerySet:
        return self.filter(locked=True)

    def direct_between(self, a: User | int, b: User | int) -> ThreadQuerySet:
        low, high = sorted([pk_of(a, "a"), pk_of(b, "b")])
        return self.filter(kind="direct", direct_low=low, direct_high=high)


# The base the thread doors stack on: `ThreadLocking`, then `ThreadOpening`, then `ThreadManager`.
ThreadManagerBase = models.Manager.from_queryset(ThreadQuerySet)


class ThreadParticipantQuerySet(GuardedQuerySet):
    def of_thread(self, thread: Thread | int) -> ThreadParticipantQuerySet:
        return self.filter(thread=thread).order_by("joined_at", "id")


ThreadParticipantManager = models.Manager.from_queryset(ThreadParticipantQuerySet)
