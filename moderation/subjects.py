"""What a report or a case is about: a user, a message or a thread, resolved to the people involved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from accounts.models import User
from messaging.models import Message, ThreadParticipant
from safety_portal.core.errors import DomainError


@dataclass(frozen=True)
class Subject:
    type: str
    key: str
    user_id: int | None
    message_id: int | None = None
    thread_id: int | None = None
    # Everyone the subject involves (the account; a message's or thread's participants), with
    # their birthdates, read in the same query that found the subject (None for staff).
    involved: Mapping[int, dt.date | None] = field(default_factory=dict)


SUBJECT_TYPES = ("user", "message", "thread")


def subject_pk(subject_type: str, subject_id: object) -> int:
    """The subject's id as a number, once the type is one we know; field errors otherwise."""
    try:
        pk = int(subject_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise DomainError(
            "invalid", "The subject id must be a number.", fields={"subject_id": ["not a number"]}
        ) from None
    if subject_type not in SUBJECT_TYPES:
        raise DomainError(
            "invalid",
            "The subject type must be user, message or thread.",
            fields={"subject_type": ["must be user, message or thread"]},
        )
    return pk


def _no_such_user() -> DomainError:
    return DomainError("not_found", "No such user.", fields={"subject_id": ["not found"]})


def user_subject(pk: int, born: dt.date | None) -> Subject:
    """A user subject from its birthdate as read (None: no such app user, e.g. staff)."""
    if born is None:
        raise _no_such_user()
    return Subject("user", f"user:{pk}", pk, involved={pk: born})


def resolve_subject(subject_type: str, subject_id: object) -> Subject:
    """Find what a report is about; a missing subject is a field error (the API answers 404)."""
    pk = subject_pk(subject_type, subject_id)
    if subject_type == "user":
        born = (
            User.objects.filter(pk=pk, birthdate__isnull=False)
            .values_list("birthdate", flat=True)
            .first()
        )
        return user_subject(pk, born)
    return _resolve_messaging_subject(subject_type, pk)


def _resolve_messaging_subject(subject_type: str, pk: int) -> Subject:
    if subject_type == "message":
        row = (
            Message.objects.filter(pk=pk)
            .values_list("sender_id", "sender__birthdate", "thread_id")
            .first()
        )
        if row is None:
            raise DomainError("not_found", "No such message.", fields={"subject_id": ["not found"]})
        sender_id, sender_born, thread_id = row
        others = ThreadParticipant.objects.filter(thread_id=thread_id).values_list(
            "user_id", "user__birthdate"
        )
        return Subject(
            "message",
            f"message:{pk}",
            sender_id,
            message_id=pk,
            thread_id=thread_id,
            involved={sender_id: sender_born, **dict(others)},
        )
    participants = dict(
        ThreadParticipant.objects.filter(thread_id=pk).values_list("user_id", "user__birthdate")
    )
    if not participants:
        raise DomainError("not_found", "No such thread.", fields={"subject_id": ["not found"]})
    return Subject("thread", f"thread:{pk}", None, thread_id=pk, involved=participants)
