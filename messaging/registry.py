"""Messaging's models, looked up in Django's app registry when a door runs.

`models.py` imports the managers to wire them (`objects = ThreadManager()`), so a manager, or the
`contact`/`snapshot` modules the managers call, cannot import `models.py` back at import time: that
is a cycle. Each manager reaches its own model as `self.model`; for the others it asks here, at call
time, once the registry is ready. The lookup is a dictionary read, cheap enough for the send path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.apps import apps

if TYPE_CHECKING:
    from .models import (
        Block,
        Connection,
        Message,
        RefusedContactAttempt,
        Thread,
        ThreadParticipant,
    )


def connection_model() -> type[Connection]:
    return cast("type[Connection]", apps.get_model("messaging", "Connection"))


def block_model() -> type[Block]:
    return cast("type[Block]", apps.get_model("messaging", "Block"))


def thread_model() -> type[Thread]:
    return cast("type[Thread]", apps.get_model("messaging", "Thread"))


def participant_model() -> type[ThreadParticipant]:
    return cast("type[ThreadParticipant]", apps.get_model("messaging", "ThreadParticipant"))


def message_model() -> type[Message]:
    return cast("type[Message]", apps.get_model("messaging", "Message"))


def refused_attempt_model() -> type[RefusedContactAttempt]:
    return cast("type[RefusedContactAttempt]", apps.get_model("messaging", "RefusedContactAttempt"))
