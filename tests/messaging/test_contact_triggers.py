"""PostgreSQL refuses direct messages and thread participants the rules refuse outright
(issue 11.5; POLICY.md §3: under-16s have no DMs and no group threads).

The doors (`Thread.objects.start_direct`, `Message.objects.send`) ask the whole policy; a raw
INSERT, `bulk_create` or `Model.save` walks around them, so the database refuses a participant
under 16 in any thread, and a direct message when either person is under 16 or has an account that
is banned or under age review. Friendship, blocks, settings, guardians, moderation restrictions and
the time-bound statuses stay in Python (messaging/triggers.py says why).
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, models, transaction

from accounts.models import User
from messaging import migrations as messaging_migrations
from messaging import triggers
from messaging.models import Message, ThreadParticipant
from safety_portal.core import clock
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import PolicyViolation
from tests.factories.messaging import direct_thread, friendly_pair, group_thread, person, send
from tests.migrated_sql import assert_in_step

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
    ),
]


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_direct_thread(a, b) -> int:
    """A direct thread row written below the doors (its participants are added separately)."""
    low, high = sorted([a.pk, b.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_thread (kind, creator_id, title, created_at, locked, "
            "locked_reason, locked_source, locked_detail, direct_low_id, direct_high_id) "
            "VALUES ('direct', %s, '', now(), false, '', '', '', %s, %s) RETURNING id",
            [a.pk, low, high],
        )
        return cursor.fetchone()[0]


def raw_participant(thread_id: int, user, added_by) -> None:
    raw(
        "INSERT INTO messaging_threadparticipant (thread_id, user_id, added_by_id, joined_at) "
        "VALUES (%s, %s, %s, now())",
        [thread_id, user.pk, added_by.pk],
    )


def raw_message(thread_id: int, sender) -> None:
    raw(
        "INSERT INTO messaging_message (thread_id, sender_id, body, created_at, moderation_state, "
        "sent_via) VALUES (%s, %s, 'hi', now(), 'visible', 'raw')",
        [thread_id, sender.pk],
    )


def refused_as(excinfo: pytest.ExceptionInfo[DatabaseError], constraint: str) -> bool:
    return constraint_of(excinfo.value) == constraint


def smuggle_participants(thread_id: int, *people) -> None:
    """Participant rows below the doors, with triggers off (as if written before migration
    0005): the only way left to have an under-16 or a closed account in a thread."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            for user in people:
                raw_participant(thread_id, user, people[0])
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


# --- participants ------------------------------------------------------------------------------


def test_database_refuses_a_raw_direct_thread_participant_under_16() -> None:
    adult, child = person(30), person(14)
    thread_id = raw_direct_thread(adult, child)
    raw_participant(thread_id, adult, adult)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_participant(thread_id, child, adult)

    assert refused_as(refused, triggers.PARTICIPANT_UNDER_16_CONSTRAINT)
    assert not ThreadParticipant.objects.filter(thread_id=thread_id, user=child).exists()


def test_database_refuses_an_under_16_group_participant_via_bulk_create() -> None:
    creator = person(30)
    group = group_thread(creator, [person(30, dm="everyone"), person(30, dm="everyone")])
    teen = person(15)
    row = ThreadParticipant(thread=group, user=teen, added_by=creator, joined_at=clock.now())

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        ThreadParticipant.objects.all()._door_bulk_create([row])

    assert refused_as(refused, triggers.PARTICIPANT_UNDER_16_CONSTRAINT)


def test_database_refuses_an_under_16_group_participant_via_model_save() -> None:
    creator = person(30)
    group = group_thread(creator, [person(30, dm="everyone"), person(30, dm="everyone")])
    row = ThreadParticipant(thread=group, user=person(13), added_by=creator, joined_at=clock.now())

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        models.Model.save(row, force_insert=True)

    assert refused_as(refused, triggers.PARTICIPANT_UNDER_16_CONSTRAINT)


def test_a_sixteen_year_old_may_be_a_participant_below_the_doors() -> None:
    """16 is the DM age: what else stops a 16-year-old is Python's (friends, settings)."""
    adult, teen = person(30), person(16)
    thread_id = raw_direct_thread(adult, teen)
    raw_participant(thread_id, adult, adult)
    raw_participant(thread_id, teen, adult)

    assert ThreadParticipant.objects.filter(thread_id=thread_id).count() == 2


# --- messages ----------------------------------------------------------------------------------


def test_database_refuses_a_raw_direct_message_from_an_adult_to_a_fourteen_year_old() -> None:
    adult, child = person(30), person(14)
    thread_id = raw_direct_thread(adult, child)
    smuggle_participants(thread_id, adult, child)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_message(thread_id, adult)

    assert refused_as(refused, triggers.DM_RECIPIENT_UNDER_16_CONSTRAINT)
    assert not Message.objects.filter(thread_id=thread_id).exists()


def test_database_refuses_a_direct_message_from_a_fourteen_year_old_via_bulk_create() -> None:
    adult, child = person(30), person(14)
    thread_id = raw_direct_thread(adult, child)
    smuggle_participants(thread_id, adult, child)
    message = Message(
        thread_id=thread_id, sender=child, body="hi", created_at=clock.now(), sent_via="raw"
    )

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Message.objects.all()._door_bulk_create([message])

    assert refused_as(refused, triggers.DM_SENDER_UNDER_16_CONSTRAINT)


@pytest.mark.parametrize("status", ["banned", "under_age_review"])
def test_database_refuses_a_direct_message_to_an_account_that_is_not_reachable(status) -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    # Below the account managers on purpose: their status change would lock the thread first.

    User.objects.filter(pk=b.pk).update(status=status)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_message(thread.pk, a)
    assert refused_as(refused, triggers.DM_RECIPIENT_UNAVAILABLE_CONSTRAINT)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_message(thread.pk, b)
    assert refused_as(refused, triggers.DM_SENDER_UNAVAILABLE_CONSTRAINT)


def test_a_suspended_status_is_left_to_python_because_it_lapses_with_its_restriction() -> None:
    """D5: a suspended status without a restriction in force counts as active, so the database
    does not refuse it (the manager asks the restrictions)."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)

    User.objects.filter(pk=b.pk).update(status="suspended")
    raw_message(thread.pk, a)

    assert Message.objects.filter(thread=thread).count() == 1


def test_a_ban_written_below_the_managers_is_refused_by_the_send_with_a_reason_code() -> None:
    """The door reads the stored status too, so its own check answers first; the trigger is the
    backstop when a change races the send (mapped by `DM_REFUSALS` to the same codes)."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)

    User.objects.filter(pk=b.pk).update(status="banned")
    with pytest.raises(PolicyViolation) as refused:
        send(a, thread, "still there?")
    assert refused.value.code == "recipient_unavailable"


# --- legal paths -------------------------------------------------------------------------------


def test_adults_and_friends_of_sixteen_still_message_each_other_through_the_door() -> None:
    a, b = friendly_pair()
    adult, teen = friendly_pair(30, 16)
    send(a, direct_thread(a, b), "hello")
    send(teen, direct_thread(teen, adult), "hi")

    assert Message.objects.count() == 2


def test_an_adult_adult_direct_message_written_with_raw_sql_is_stored() -> None:
    a, b = person(30), person(40)
    thread_id = raw_direct_thread(a, b)
    raw_participant(thread_id, a, a)
    raw_participant(thread_id, b, a)
    raw_message(thread_id, a)

    assert Message.objects.filter(thread_id=thread_id).count() == 1


# --- the generated SQL and the migrated SQL stay in step ------------------------------------


def test_the_contact_guard_sql_generated_from_the_rules_is_the_latest_migrated_version() -> None:
    assert_in_step(triggers.render_contact_guard_sql(), messaging_migrations, "CONTACT_GUARD_SQL")
