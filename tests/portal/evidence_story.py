"""A grooming case as a minor reports it, built through the real doors (issue 15.1's evidence).

An adult (19, GB) chatting with a 16-year-old friend (IE) who reports him, refused contact with a
14-year-old, and an unrelated conversation with another adult that the case must not open.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import User
from messaging.models import Message, Thread
from moderation.models import Case
from safety_portal.core.errors import PolicyViolation
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import GROOMING, MINORS, report_user

GROOMING_WORDS = "he keeps asking me to add him on another app and to keep it secret"


@dataclass
class Grooming:
    """An adult (19, GB) talking to a 16-year-old friend (IE) who reports him, refused for a
    14-year-old, with an unrelated conversation with another adult."""

    subject: User
    teen: User
    younger: User
    thread: Thread
    lines: list[Message]
    unrelated: Message
    case: Case


def refused(adult: User, minor: User) -> None:
    with pytest.raises(PolicyViolation):
        Thread.objects.start(creator=adult, participants=[minor], actor=adult)


def grooming(*, messages: int = 6, tag: str = "") -> Grooming:
    subject = person(19, dm="friends", country="GB", username=f"gary_nineteen{tag}")
    teen = person(16, dm="friends", country="IE", username=f"mia_sixteen{tag}")
    younger = person(14, country="GB", username=f"ben_fourteen{tag}")
    befriend(subject, teen)
    thread = direct_thread(subject, teen)
    lines = [
        send(subject if i % 2 == 0 else teen, thread, f"line-{i:02d} of the chat")
        for i in range(messages)
    ]
    refused(subject, younger)
    friend = person(33, dm="friends", country="GB")
    befriend(subject, friend)
    unrelated = send(subject, direct_thread(subject, friend), "unrelated-adult-chat-5521")
    report = report_user(
        subject, reporter=teen, category=MINORS, keywords=[GROOMING], explanation=GROOMING_WORDS
    )
    return Grooming(subject, teen, younger, thread, lines, unrelated, report.case)
