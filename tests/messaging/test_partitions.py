"""Messages are range-partitioned by month of `created_at` on PostgreSQL (issue 14.5, D33).

What the partitions must not change: a message is written by the same door and read by the same
queries wherever it lands (its month's partition, or DEFAULT when the job that creates months
ahead fell behind); every refusal of messaging/triggers.py holds on the parent and on a partition
addressed by name, a newly created month included, and now TRUNCATE too; and a report or case
naming a message that does not exist is refused by the database, as the foreign key that the
partitions replaced refused it (moderation/triggers.py `SUBJECT_MESSAGE_EXISTS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from messaging.models import Message, Thread
from messaging.partitioning import MESSAGES
from moderation.models import Case, Report
from safety_portal.core import clock, partitions
from safety_portal.core.constraints import constraint_of
from safety_portal.core.partitions import Month
from tests.factories.accounts import FACTORY_ACTOR
from tests.factories.messaging import direct_thread, friendly_pair, person, send
from tests.factories.moderation import report_message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only"
    ),
]

MISSING_MESSAGE_ID = 987_654_321_012


@pytest.fixture
def conversation():
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    return a, b, thread


def _partition_of(message: Message) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM messaging_message WHERE id = %s AND created_at = %s",
            [message.pk, message.created_at],
        )
        return cursor.fetchone()[0]


def _refused(sql: str, params: list[object] | None = None) -> IntegrityError:
    """Run `sql` in a savepoint and return the database's refusal (the test fails if none)."""
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params or [])
    return refused.value


@pytest.fixture
def uncovered() -> Month:
    """A month the migration did not create (it creates this month and PARTITION_MONTHS_AHEAD);
    read before any test moves the clock."""
    return Month.of(clock.today()).plus(settings.PARTITION_MONTHS_AHEAD + 2)


@pytest.fixture
def in_uncovered_month(uncovered: Month) -> Iterator[Month]:
    with time_machine.travel(uncovered.start + dt.timedelta(days=9, hours=15), tick=False):
        yield uncovered


def _immediately() -> None:
    """The check is deferred to the commit, as Django's foreign keys are; a test transaction
    never commits, so it asks for the checks now (what `connection.check_constraints` does)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- where rows land -------------------------------------------------------------------------------


def test_the_message_table_is_partitioned_by_month_with_a_default_partition() -> None:
    assert partitions.is_partitioned("messaging_message")
    found = partitions.partitions(MESSAGES)
    this_month = Month.of(clock.today())
    months = {p.month for p in found if p.month is not None}
    assert {this_month.plus(i) for i in range(settings.PARTITION_MONTHS_AHEAD + 1)} <= months
    assert found[-1].is_default
    assert found[-1].name == "messaging_message_default"


def test_a_message_lands_in_the_partition_of_its_month(conversation) -> None:
    a, b, thread = conversation
    now_message = send(a, thread, "see you at six?")
    next_month = Month.of(clock.today()).plus(1)
    with time_machine.travel(next_month.start + dt.timedelta(days=2), tick=False):
        later = send(b, thread, "running late")

    assert _partition_of(now_message) == MESSAGES.partition_name(Month.of(now_message.created_at))
    assert _partition_of(later) == MESSAGES.partition_name(next_month)


def test_a_message_in_a_month_without_a_partition_lands_in_default_and_is_still_read(
    conversation, in_uncovered_month
) -> None:
    """The job that creates months ahead stopped: sends still succeed, the rows sit in DEFAULT,
    every read finds them, and the job reports the month as blocked instead of failing."""
    a, b, thread = conversation
    message = send(a, thread, "still here")

    assert _partition_of(message) == MESSAGES.default_name
    assert Message.objects.get(pk=message.pk).body == "still here"
    assert list(Message.objects.in_thread(thread)) == [message]
    assert list(Message.objects.visible_to(b)[:1]) == [message]
    ensured = partitions.ensure_ahead(MESSAGES, in_uncovered_month.start.date(), 0)
    assert ensured.created == []
    assert [month for month, _ in ensured.blocked] == [in_uncovered_month]


def test_a_report_on_a_message_joins_through_the_orm_across_partitions(
    conversation, in_uncovered_month
) -> None:
    """The Django foreign key stays (without a database constraint): joins and related reads."""
    a, b, thread = conversation
    message = send(a, thread, "you are awful")
    report = report_message(message, reporter=b)

    assert Report.objects.select_related("subject_message").get(pk=report.pk).subject_message == (
        message
    )
    assert list(Report.objects.filter(subject_message__thread=thread)) == [report]
    assert list(message.reports.all()) == [report]
    assert Case.objects.get(subject_message__sender=a).subject_message_id == message.pk


# --- the guards, on the parent and on a partition by name ----------------------------------------


def _targets(message: Message) -> list[str]:
    return ["messaging_message", connection.ops.quote_name(_partition_of(message))]


def test_what_was_sent_cannot_be_edited_or_deleted_through_the_parent_or_a_partition(
    conversation,
) -> None:
    a, _b, thread = conversation
    message = send(a, thread, "original words")
    for table in _targets(message):
        edited = _refused(f"UPDATE {table} SET body = 'other words' WHERE id = %s", [message.pk])
        assert constraint_of(edited) == "messaging_message_content_kept"
        moved = _refused(
            f"UPDATE {table} SET created_at = created_at - interval '400 days' WHERE id = %s",
            [message.pk],
        )
        assert constraint_of(moved) == "messaging_message_content_kept"
        hidden = _refused(
            f"UPDATE {table} SET moderation_state = 'hidden' WHERE id = %s", [message.pk]
        )
        assert constraint_of(hidden) == "messaging_moderation_through_manager"
        deleted = _refused(f"DELETE FROM {table} WHERE id = %s", [message.pk])
        assert constraint_of(deleted) == "messaging_rows_kept"
    assert Message.objects.get(pk=message.pk).body == "original words"


def test_no_table_of_messages_can_be_truncated(conversation, in_uncovered_month) -> None:
    a, _b, thread = conversation
    send(a, thread, "kept")  # a row in DEFAULT, and one month partition below
    _immediately()  # the send's deferred checks run now: TRUNCATE waits for none
    tables = ["messaging_message", *partitions.names(partitions.partitions(MESSAGES))]
    assert MESSAGES.default_name in tables
    for table in tables:
        refused = _refused(f"TRUNCATE {connection.ops.quote_name(table)}")
        assert constraint_of(refused) == "messaging_rows_kept", table
    assert Message.objects.filter(thread=thread).count() == 1


def test_a_message_written_into_a_partition_directly_is_guarded_like_one_sent(
    conversation,
) -> None:
    a, _b, thread = conversation
    outsider = person(30)
    partition = connection.ops.quote_name(MESSAGES.partition_name(Month.of(clock.today())))
    insert = (
        f"INSERT INTO {partition} (thread_id, sender_id, body, created_at, moderation_state,"
        " sent_via) VALUES (%s, %s, 'hi', now(), 'visible', 'raw')"
    )
    refused = _refused(insert, [thread.pk, outsider.pk])
    assert constraint_of(refused) == "messaging_sender_is_participant"
    Thread.objects.lock(thread, reason="harassment", actor=FACTORY_ACTOR, source="staff")
    refused = _refused(insert, [thread.pk, a.pk])
    assert constraint_of(refused) == "messaging_thread_locked"


def test_a_month_created_later_by_the_job_carries_every_guard(conversation, uncovered) -> None:
    a, _b, thread = conversation
    month = uncovered.plus(6)
    assert partitions.create_month(MESSAGES, month)
    with time_machine.travel(month.start + dt.timedelta(days=1), tick=False):
        message = send(a, thread, "from the future")
    assert _partition_of(message) == MESSAGES.partition_name(month)
    partition = connection.ops.quote_name(MESSAGES.partition_name(month))
    _immediately()
    assert constraint_of(_refused(f"TRUNCATE {partition}")) == "messaging_rows_kept"
    edited = _refused(f"UPDATE {partition} SET body = 'x' WHERE id = %s", [message.pk])
    assert constraint_of(edited) == "messaging_message_content_kept"
    deleted = _refused(f"DELETE FROM {partition} WHERE id = %s", [message.pk])
    assert constraint_of(deleted) == "messaging_rows_kept"


# --- the integrity that replaced the foreign keys into messages ----------------------------------


@pytest.fixture
def reported(conversation) -> tuple[Message, Report, Case]:
    a, b, thread = conversation
    message = send(a, thread, "you are awful")
    report = report_message(message, reporter=b)
    return message, report, report.case


def _insert_copy_naming(row: Report | Case, message_id: int, **changes: object) -> IntegrityError:
    """Insert a copy of `row` that names `message_id`; return the database's refusal."""
    _immediately()
    copy = type(row).objects.get(pk=row.pk)
    copy.pk = None
    copy.subject_message_id = message_id
    for name, value in changes.items():
        setattr(copy, name, value)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        copy.save(force_insert=True)
    return refused.value


def test_a_report_naming_a_message_that_does_not_exist_is_refused(reported) -> None:
    _message, report, _case = reported
    refused = _insert_copy_naming(report, MISSING_MESSAGE_ID)
    assert constraint_of(refused) == "moderation_report_subject_message_exists"
    assert "does not exist" in str(refused)


def test_a_case_naming_a_message_that_does_not_exist_is_refused(reported) -> None:
    _message, _report, case = reported
    refused = _insert_copy_naming(
        case, MISSING_MESSAGE_ID, subject_key=f"message:{MISSING_MESSAGE_ID}"
    )
    assert constraint_of(refused) == "moderation_case_subject_message_exists"


def test_repointing_a_report_or_case_at_a_missing_message_is_refused(reported) -> None:
    _message, report, case = reported
    _immediately()
    for table, row_id, name in (
        ("moderation_report", report.pk, "moderation_report_subject_message_exists"),
        ("moderation_case", case.pk, "moderation_case_subject_message_exists"),
    ):
        refused = _refused(
            f"UPDATE {table} SET subject_message_id = %s WHERE id = %s",
            [MISSING_MESSAGE_ID, row_id],
        )
        assert constraint_of(refused) == name


def test_repointing_at_another_existing_message_in_another_partition_is_accepted(
    reported, conversation, uncovered
) -> None:
    """The control for the refusals above: an existing message, wherever it is, is accepted."""
    a, _b, thread = conversation
    _message, report, _case = reported
    with time_machine.travel(uncovered.start + dt.timedelta(days=3), tick=False):
        elsewhere = send(a, thread, "in DEFAULT")
    _immediately()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE moderation_report SET subject_message_id = %s WHERE id = %s",
            [elsewhere.pk, report.pk],
        )
    assert Report.objects.get(pk=report.pk).subject_message == elsewhere


@pytest.mark.django_db(transaction=True)
def test_the_missing_message_is_refused_at_commit_as_the_foreign_key_was() -> None:
    """Without SET CONSTRAINTS: the deferred check runs when the transaction commits."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    report = report_message(send(a, thread, "you are awful"), reporter=b)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Report.objects.filter(pk=report.pk).update(subject_message_id=MISSING_MESSAGE_ID)
    assert constraint_of(refused.value) == "moderation_report_subject_message_exists"
    assert Report.objects.get(pk=report.pk).subject_message_id != MISSING_MESSAGE_ID
