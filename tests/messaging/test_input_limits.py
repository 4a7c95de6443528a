"""Bad input is a DomainError with field errors, and nothing is written (messaging/limits.py)."""

from __future__ import annotations

import pytest

from messaging.limits import MAX_BODY_LENGTH, MAX_GROUP_PARTICIPANTS, MAX_TITLE_LENGTH
from messaging.models import Block, Connection, Message, RefusedContactAttempt, Thread
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError
from tests.factories.accounts import StaffFactory
from tests.factories.messaging import direct_thread, friendly_pair, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    a, b = friendly_pair()
    return a, b, direct_thread(a, b)


def bad(call) -> dict[str, list[str]]:
    before = (
        AuditEntry.objects.count(),
        Message.objects.count(),
        Thread.objects.count(),
        RefusedContactAttempt.objects.count(),
    )
    with pytest.raises(DomainError) as error:
        call()
    after = (
        AuditEntry.objects.count(),
        Message.objects.count(),
        Thread.objects.count(),
        RefusedContactAttempt.objects.count(),
    )
    assert after == before, "bad input wrote something"
    assert error.value.status_code == 400
    return error.value.fields


@pytest.mark.parametrize(
    "body", ["", " ", "   \n\t  ", "\u3000\u2003", "x" * (MAX_BODY_LENGTH + 1), "nul\x00byte"]
)
def test_empty_whitespace_overlong_or_nul_bodies_are_refused(pair, body: str) -> None:
    a, _b, thread = pair
    fields = bad(lambda: Message.objects.send(sender=a, thread=thread, body=body, actor=a))
    assert list(fields) == ["body"]


def test_a_body_of_exactly_the_maximum_length_is_accepted(pair) -> None:
    a, _b, thread = pair
    message = Message.objects.send(sender=a, thread=thread, body="é" * MAX_BODY_LENGTH, actor=a)
    message.refresh_from_db()
    assert len(message.body) == MAX_BODY_LENGTH


def test_a_body_keeps_its_surrounding_spaces(pair) -> None:
    a, _b, thread = pair
    message = Message.objects.send(sender=a, thread=thread, body="  indented\n", actor=a)
    message.refresh_from_db()
    assert message.body == "  indented\n"


def test_nobody_starts_a_thread_with_themselves() -> None:
    a = person(30)
    fields = bad(lambda: Thread.objects.start(creator=a, participants=[a], actor=a))
    assert "participants" in fields


def test_unknown_participants_are_named() -> None:
    a = person(30)
    fields = bad(lambda: Thread.objects.start(creator=a, participants=[987654321], actor=a))
    assert fields["participants"] == ["Unknown user id: 987654321."]


def test_a_participant_named_twice_is_refused() -> None:
    a, b = person(30), person(30, dm="everyone")
    fields = bad(lambda: Thread.objects.start(creator=a, participants=[b, b], actor=a))
    assert "participants" in fields


def test_no_one_is_left_out_of_an_empty_thread() -> None:
    a = person(30)
    bad(lambda: Thread.objects.start(creator=a, participants=[], actor=a))


def test_a_group_larger_than_the_limit_is_refused_before_looking_anyone_up() -> None:
    a = person(30)
    ids = list(range(10_000_000, 10_000_000 + MAX_GROUP_PARTICIPANTS))  # the creator makes 51
    fields = bad(lambda: Thread.objects.start(creator=a, participants=ids, actor=a))
    assert any(str(MAX_GROUP_PARTICIPANTS) in e for e in fields["participants"])


def test_staff_accounts_are_not_messaging_participants() -> None:
    a = person(30)
    staff = StaffFactory()
    fields = bad(lambda: Thread.objects.start(creator=a, participants=[staff], actor=a))
    assert "participants" in fields
    bad(lambda: Connection.objects.follow(follower=a, followee=staff, actor=a))


def test_a_direct_thread_has_two_people_and_no_title() -> None:
    a, b, c = person(30), person(30, dm="everyone"), person(30, dm="everyone")
    assert "participants" in bad(
        lambda: Thread.objects.start(creator=a, participants=[b, c], actor=a, kind="direct")
    )
    assert "title" in bad(
        lambda: Thread.objects.start(creator=a, participants=[b], actor=a, title="us")
    )
    assert "kind" in bad(
        lambda: Thread.objects.start(creator=a, participants=[b], actor=a, kind="broadcast")
    )


def test_a_group_title_has_a_length_limit() -> None:
    a, b, c = person(30), person(30, dm="everyone"), person(30, dm="everyone")
    fields = bad(
        lambda: Thread.objects.start(
            creator=a, participants=[b, c], actor=a, title="t" * (MAX_TITLE_LENGTH + 1)
        )
    )
    assert "title" in fields


def test_nobody_follows_or_blocks_themselves() -> None:
    a = person(30)
    assert "followee" in bad(lambda: Connection.objects.follow(follower=a, followee=a, actor=a))
    assert "blocked" in bad(lambda: Block.objects.block(blocker=a, blocked=a, actor=a))
