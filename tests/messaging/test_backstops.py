"""Every way round the managers is closed or caught (issue 3, "backstops under the managers").

Closed in Python (`UnguardedWrite`): admin/ModelForm saves, serializers' default `create`,
`QuerySet.update()`, `bulk_create`, `bulk_update`, `QuerySet.delete()`, `Model.delete()`, related
managers (`thread.messages.create`, `thread.members.add`). Closed in PostgreSQL (triggers and
constraints): whatever reaches the tables anyway, e.g. `models.Model.save(obj)` called on purpose
or raw SQL — a message into a locked thread or from a non-participant, an edited body, a silent
unlock, a third person in a direct thread, duplicates, blank bodies.

Not closable: a participant inserted with raw SQL who passes every database check but not the
policy (the age rules live in Python, in one place). That path is caught at the next send, which
asks the policy about every member and locks the thread; and a scan of the code base shows that
nothing but the managers writes these tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django import forms
from django.db import IntegrityError, connection, models, transaction
from rest_framework import serializers

from messaging.guards import UnguardedWrite
from messaging.limits import MAX_BODY_LENGTH
from messaging.models import (
    Block,
    Connection,
    Message,
    RefusedContactAttempt,
    Thread,
    ThreadParticipant,
)
from safety_portal.core import clock
from safety_portal.core.errors import NotPermitted, PolicyViolation
from tests.factories.accounts import FACTORY_ACTOR
from tests.factories.messaging import (
    direct_thread,
    friendly_pair,
    group_thread,
    person,
    send,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
)


@pytest.fixture
def conversation():
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    message = send(a, thread, "original words")
    return a, b, thread, message


def bare_insert(obj: models.Model) -> None:
    """Walk past the Python guard on purpose, as a careless script might."""
    with transaction.atomic():
        models.Model.save(obj, force_insert=True)


def raw(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Python: forms, serializers, QuerySet and related-manager writes -----------------------------


class MessageForm(forms.ModelForm):
    class Meta:
        model = Message
        fields = ["thread", "sender", "body", "created_at", "sent_via"]


class ThreadForm(forms.ModelForm):
    class Meta:
        model = Thread
        fields = ["locked", "locked_reason", "locked_source", "locked_detail", "locked_at"]


def test_an_admin_form_cannot_create_a_message(conversation) -> None:
    a, _b, thread, _message = conversation
    form = MessageForm(
        data={
            "thread": thread.pk,
            "sender": a.pk,
            "body": "typed into the admin",
            "created_at": clock.now(),
            "sent_via": "admin",
        }
    )
    assert form.is_valid(), form.errors
    with pytest.raises(UnguardedWrite):
        form.save()
    assert Message.objects.in_thread(thread).count() == 1


def test_an_admin_form_cannot_unlock_a_thread(conversation) -> None:
    _a, _b, thread, _message = conversation
    Thread.objects.lock(thread, reason="harassment", actor=FACTORY_ACTOR, source="staff")
    thread.refresh_from_db()
    form = ThreadForm(
        instance=thread,
        data={"locked": False, "locked_reason": "", "locked_source": "", "locked_detail": ""},
    )
    assert form.is_valid(), form.errors
    with pytest.raises(UnguardedWrite):
        form.save()
    thread.refresh_from_db()
    assert thread.locked


class RawMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["thread", "sender", "body", "created_at", "sent_via"]


class SendSerializer(serializers.Serializer):
    """How an API serializer writes a message: through the door, with its client as the actor."""

    thread = serializers.PrimaryKeyRelatedField(queryset=Thread.objects.all())
    body = serializers.CharField(trim_whitespace=False)

    def create(self, validated_data: dict) -> Message:
        return Message.objects.send(
            sender=self.context["sender"],
            thread=validated_data["thread"],
            body=validated_data["body"],
            actor=self.context["client"],
        )


def test_a_model_serializers_default_create_is_refused(conversation) -> None:
    a, _b, thread, _message = conversation
    data = {
        "thread": thread.pk,
        "sender": a.pk,
        "body": "posted past the door",
        "created_at": clock.now().isoformat(),
        "sent_via": "api",
    }
    serializer = RawMessageSerializer(data=data)
    assert serializer.is_valid(), serializer.errors
    with pytest.raises(UnguardedWrite):
        serializer.save()


def test_a_serializer_that_uses_the_door_gets_the_policy() -> None:
    adult, teen = person(30), person(15)
    thread = direct_thread(adult, person(30, dm="everyone"))
    serializer = SendSerializer(
        data={"thread": thread.pk, "body": "via the API"},
        context={"sender": adult, "client": FACTORY_ACTOR},
    )
    assert serializer.is_valid(), serializer.errors
    message = serializer.save()
    assert message.sent_via == "system:tests.factory"
    outsider = SendSerializer(
        data={"thread": thread.pk, "body": "let me in"},
        context={"sender": teen, "client": FACTORY_ACTOR},
    )
    assert outsider.is_valid()
    with pytest.raises(NotPermitted):
        outsider.save()


def test_queryset_update_of_messages_and_threads_is_refused(conversation) -> None:
    _a, _b, thread, message = conversation
    with pytest.raises(UnguardedWrite):
        Message.objects.filter(pk=message.pk).update(body="rewritten")
    with pytest.raises(UnguardedWrite):
        Message.objects.filter(pk=message.pk).update(moderation_state="removed")
    with pytest.raises(UnguardedWrite):
        Thread.objects.filter(pk=thread.pk).update(locked=True)
    with pytest.raises(UnguardedWrite):
        Message.objects.bulk_update([message], ["body"])


def test_bulk_create_is_refused_on_every_messaging_model(conversation) -> None:
    a, b, thread, _message = conversation
    now = clock.now()
    attempts = [
        (Message, Message(thread=thread, sender=a, body="bulk", created_at=now, sent_via="x")),
        (Connection, Connection(follower=a, followee=person(30), created_at=now)),
        (Block, Block(blocker=a, blocked=b, created_at=now)),
        (ThreadParticipant, ThreadParticipant(thread=thread, user=a, added_by=a, joined_at=now)),
    ]
    for model, obj in attempts:
        with pytest.raises(UnguardedWrite):
            model.objects.bulk_create([obj])
        with pytest.raises(UnguardedWrite):
            model._base_manager.bulk_create([obj])


def test_related_managers_cannot_create_or_attach(conversation) -> None:
    a, _b, thread, message = conversation
    now = clock.now()
    attempts = [
        lambda: thread.messages.create(sender=a, body="side door", created_at=now, sent_via="x"),
        lambda: a.sent_messages.create(
            thread=thread, body="side door", created_at=now, sent_via="x"
        ),
        lambda: thread.participants.create(user=person(30), added_by=a, joined_at=now),
        lambda: thread.members.add(person(30), through_defaults={"added_by": a, "joined_at": now}),
        lambda: thread.members.remove(a),
        lambda: Message.objects.get_or_create(thread=thread, sender=a, body="again"),
    ]
    for attempt in attempts:
        # Django runs some of these in `atomic(savepoint=False)`; a real caller (a view, the
        # admin) has its own transaction, which the refusal rolls back.
        with pytest.raises(UnguardedWrite), transaction.atomic():
            attempt()
    assert Message.objects.in_thread(thread).get() == message
    assert set(thread.members.all()) == {a, _b}


def test_nothing_is_deleted_through_the_orm(conversation) -> None:
    a, b, thread, message = conversation
    with pytest.raises(UnguardedWrite):
        message.delete()
    with pytest.raises(UnguardedWrite):
        Message.objects.filter(pk=message.pk).delete()
    with pytest.raises(UnguardedWrite):
        thread.delete()
    with pytest.raises(UnguardedWrite):
        Connection.objects.filter(follower=a).delete()  # would end a friendship without locks
    with pytest.raises(UnguardedWrite):
        Connection.objects.get(follower=a, followee=b).delete()


def test_a_refused_attempt_cannot_be_fabricated_or_erased(conversation) -> None:
    a, b, _thread, _message = conversation
    with pytest.raises(UnguardedWrite):
        RefusedContactAttempt.objects.create(
            sender=a, recipient=b, action="message_send", reason="x", at=clock.now(), sent_via="x"
        )


# --- PostgreSQL: what reaches the tables anyway ----------------------------------------------------


@postgres_only
def test_the_database_refuses_a_message_into_a_locked_thread(conversation) -> None:
    a, _b, thread, _message = conversation
    Thread.objects.lock(thread, reason="harassment", actor=FACTORY_ACTOR, source="staff")
    smuggled = Message(
        thread=thread, sender=a, body="past the door", created_at=clock.now(), sent_via="x"
    )
    with pytest.raises(IntegrityError, match="locked"):
        bare_insert(smuggled)


@postgres_only
def test_the_database_refuses_a_message_from_a_non_participant(conversation) -> None:
    _a, _b, thread, _message = conversation
    outsider = person(30)
    smuggled = Message(
        thread=thread, sender=outsider, body="hi", created_at=clock.now(), sent_via="x"
    )
    with pytest.raises(IntegrityError, match="not a participant"):
        bare_insert(smuggled)


@postgres_only
def test_the_database_keeps_what_was_sent(conversation) -> None:
    _a, _b, _thread, message = conversation
    with pytest.raises(IntegrityError, match="kept as sent"):
        raw("UPDATE messaging_message SET body = %s WHERE id = %s", ["edited", message.pk])
    with pytest.raises(IntegrityError, match="set_moderation_state"):
        raw("UPDATE messaging_message SET moderation_state = 'removed' WHERE id = %s", [message.pk])
    with pytest.raises(IntegrityError, match="never deleted"):
        raw("DELETE FROM messaging_message WHERE id = %s", [message.pk])
    message.refresh_from_db()
    assert (message.body, message.moderation_state) == ("original words", "visible")


def stored_thread(thread: Thread) -> tuple[object, ...]:
    """The thread row as PostgreSQL holds it, read with raw SQL like the writes it checks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT locked, locked_reason, locked_source, kind FROM messaging_thread WHERE id = %s",
            [thread.pk],
        )
        return cursor.fetchone()


@postgres_only
def test_the_database_refuses_a_silent_unlock_but_not_a_lock(conversation) -> None:
    _a, _b, thread, _message = conversation
    raw(
        "UPDATE messaging_thread SET locked = true, locked_at = now(), locked_reason = 'x', "
        "locked_source = 'staff' WHERE id = %s",
        [thread.pk],
    )
    assert stored_thread(thread) == (True, "x", "staff", "direct")  # a lock is allowed
    with pytest.raises(IntegrityError, match="explicit"):
        raw(
            "UPDATE messaging_thread SET locked = false, locked_at = NULL, locked_reason = '', "
            "locked_source = '' WHERE id = %s",
            [thread.pk],
        )
    with pytest.raises(IntegrityError, match="never change"):
        raw(
            "UPDATE messaging_thread SET kind = 'group', direct_low_id = NULL, direct_high_id = NULL, "
            "title = '' WHERE id = %s",
            [thread.pk],
        )
    assert stored_thread(thread) == (True, "x", "staff", "direct")  # both refusals left it


@postgres_only
def test_the_database_refuses_a_third_person_in_a_direct_thread(conversation) -> None:
    a, _b, thread, _message = conversation
    row = ThreadParticipant(thread=thread, user=person(30), added_by=a, joined_at=clock.now())
    with pytest.raises(IntegrityError, match="direct thread"):
        bare_insert(row)


@postgres_only
def test_the_database_refuses_joining_a_locked_group_and_leaving_any_thread() -> None:
    creator = person(30)
    group = group_thread(creator, [person(30, dm="everyone"), person(30, dm="everyone")])
    with pytest.raises(IntegrityError, match="kept as they joined"):
        raw("DELETE FROM messaging_threadparticipant WHERE thread_id = %s", [group.pk])
    Thread.objects.lock(group, reason="spam", actor=FACTORY_ACTOR, source="staff")
    row = ThreadParticipant(
        thread=group, user=person(30, dm="everyone"), added_by=creator, joined_at=clock.now()
    )
    with pytest.raises(IntegrityError, match="locked"):
        bare_insert(row)


def test_the_database_refuses_self_follows_self_blocks_and_duplicates(conversation) -> None:
    a, b, _thread, _message = conversation
    now = clock.now()
    for obj in (
        Connection(follower=a, followee=a, created_at=now),
        Connection(follower=a, followee=b, created_at=now),  # already follows
        Block(blocker=a, blocked=a, created_at=now),
    ):
        with pytest.raises(IntegrityError):
            bare_insert(obj)


def test_the_database_refuses_self_threads_and_second_direct_threads(conversation) -> None:
    a, b, _thread, _message = conversation
    now = clock.now()
    low, high = sorted([a.pk, b.pk])
    for obj in (
        Thread(kind="direct", creator=a, created_at=now, direct_low_id=a.pk, direct_high_id=a.pk),
        Thread(kind="direct", creator=a, created_at=now, direct_low_id=low, direct_high_id=high),
        Thread(kind="group", creator=a, created_at=now, direct_low_id=low, direct_high_id=high),
        Thread(kind="group", creator=a, created_at=now, locked=True),  # a lock without a reason
    ):
        with pytest.raises(IntegrityError):
            bare_insert(obj)


def test_the_database_refuses_duplicate_participants_and_bad_bodies(conversation) -> None:
    a, _b, thread, _message = conversation
    now = clock.now()
    with pytest.raises(IntegrityError):
        bare_insert(ThreadParticipant(thread=thread, user=a, added_by=a, joined_at=now))
    for body in ("   ", "", "x" * (MAX_BODY_LENGTH + 1)):
        with pytest.raises(IntegrityError):
            bare_insert(Message(thread=thread, sender=a, body=body, created_at=now, sent_via="x"))


# --- the path that cannot be closed, and the guard on it --------------------------------------------


@postgres_only
def test_a_teen_smuggled_into_a_group_below_the_doors_is_caught_at_the_next_send() -> None:
    """The database refuses anyone under 16 in a thread (test_contact_triggers.py); what it
    cannot judge (a 17-year-old who was not invited by a friend) the next send catches."""
    creator, member = person(30), person(30, dm="everyone")
    group = group_thread(creator, [member, person(30, dm="everyone")])
    teen = person(17, dm="friends")
    raw(
        "INSERT INTO messaging_threadparticipant (thread_id, user_id, added_by_id, joined_at) "
        "VALUES (%s, %s, %s, now())",
        [group.pk, teen.pk, creator.pk],
    )
    with pytest.raises(PolicyViolation) as refused:
        send(member, group, "who is this?")
    assert refused.value.code == "thread_locked"
    group.refresh_from_db()
    assert (group.locked, group.locked_reason) == (True, "group_add_not_friend")
    attempt = RefusedContactAttempt.objects.by_sender(member).get()
    assert attempt.recipient == teen


WRITE_PATTERNS = [
    re.compile(r"_door\s*=\s*True"),
    re.compile(r"\._door_(update|bulk_create|delete)\("),
    re.compile(r"(INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+messaging_", re.IGNORECASE),
]
MENTIONS_MESSAGING = re.compile(r"^\s*(from|import)\s+messaging\b|messaging_", re.MULTILINE)
# The managers package (one module per aggregate), the guard itself and the trigger SQL.
DOOR_MODULES = ("messaging/managers/", "messaging/guards.py", "messaging/triggers.py")


def test_only_the_managers_write_messaging_tables() -> None:
    """The guard on what Python cannot close: no application module outside messaging's managers
    writes these tables past the doors (tests and benchmarks do so on purpose, to prove the
    backstops and to build data sets)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in rel:
            continue
        if rel.startswith(DOOR_MODULES):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if not MENTIONS_MESSAGING.search(text):
            continue
        offenders += [f"{rel}: {p.pattern}" for p in WRITE_PATTERNS if p.search(text)]
    assert offenders == []
