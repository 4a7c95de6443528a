"""A send costs two queries, the snapshot and the INSERT (issue 3 allowed six), whatever the
thread's size and however long the people's histories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Restriction
from messaging.limits import MAX_GROUP_PARTICIPANTS
from messaging.models import Message
from safety_portal import rules
from safety_portal.core import clock
from tests.factories.messaging import (
    befriend,
    block,
    direct_thread,
    friendly_pair,
    group_thread,
    person,
    send,
)

pytestmark = pytest.mark.django_db

SEND_QUERY_BUDGET = 2  # the snapshot and the INSERT (issue 3 allowed 6)


def give_a_long_history(user, *, partners: int = 12, messages_each: int = 10) -> None:
    """Threads, messages, follows, blocks and ended restrictions that a send must not scan."""
    now = clock.now()
    for i in range(partners):
        other = person(30, dm="everyone")
        befriend(user, other)
        thread = direct_thread(user, other)
        for n in range(messages_each):
            send(user if n % 2 else other, thread, f"old message {i}-{n}")
    block(user, person(30))
    Restriction.objects.create(
        user=user,
        kind=Restriction.Kind.FEATURE,
        feature=rules.vocabulary.Feature.DIRECT_MESSAGES,
        reason="an old, ended restriction",
        starts_at=now - dt.timedelta(days=30),
        ends_at=now - dt.timedelta(days=20),
        created_at=now - dt.timedelta(days=30),
    )


def queries_of_one_send(sender, thread) -> int:
    with CaptureQueriesContext(connection) as captured:
        send(sender, thread, "counted")
    return len(captured)


def test_a_send_in_a_thread_of_two_stays_within_budget(django_assert_max_num_queries) -> None:
    a, b = friendly_pair()
    thread = direct_thread(a, b)
    with django_assert_max_num_queries(SEND_QUERY_BUDGET):
        send(a, thread, "hello")


def test_a_send_in_a_thread_of_fifty_stays_within_budget(django_assert_max_num_queries) -> None:
    creator = person(30)
    members = [person(30, dm="everyone") for _ in range(MAX_GROUP_PARTICIPANTS - 1)]
    thread = group_thread(creator, members)
    assert thread.members.count() == 50
    with django_assert_max_num_queries(SEND_QUERY_BUDGET):
        send(members[-1], thread, "hello everyone")


def test_a_send_costs_the_same_for_two_or_fifty_people_and_long_histories() -> None:
    a, b = friendly_pair()
    small = direct_thread(a, b)
    baseline = queries_of_one_send(a, small)

    creator = person(30)
    members = [person(30, dm="everyone") for _ in range(MAX_GROUP_PARTICIPANTS - 1)]
    large = group_thread(creator, members)
    give_a_long_history(creator)
    give_a_long_history(a)
    assert Message.objects.by_sender(creator).count() >= 60

    assert queries_of_one_send(creator, large) == baseline
    assert queries_of_one_send(a, small) == baseline
    assert baseline <= SEND_QUERY_BUDGET


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_send_query_runs_prepared_when_the_deployment_allows_it(monkeypatch) -> None:
    """`DATABASES[...]["OPTIONS"]["prepare_threshold"]` set: the send's read is prepared once per
    connection (and still counted as a query); unset (Django's default), nothing is prepared."""
    a, b = friendly_pair()
    thread = direct_thread(a, b)

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements "
                "WHERE statement LIKE %s AND NOT from_sql",
                ["%messaging_send_snapshot(%"],
            )
            return cursor.fetchone()[0]

    send(a, thread, "not prepared")
    assert prepared() == 0
    monkeypatch.setitem(connection.settings_dict.setdefault("OPTIONS", {}), "prepare_threshold", 0)
    monkeypatch.setattr(connection.connection, "prepare_threshold", 0)
    with CaptureQueriesContext(connection) as captured:
        send(a, thread, "prepared")
        send(b, thread, "prepared again")
    assert len(captured) == 4
    assert prepared() == 1
    assert Message.objects.in_thread(thread).count() == 3
