"""Messaging's read vocabulary and its guarded writes: the only doors (STYLE.md idea 2).

One module per aggregate: `connections` (follows), `blocks`, `threads` (stacked from
`thread_queries`, `thread_locking` and `thread_opening`), `group_invites`, `messages` and
`refused_attempts`;
`_common` holds the checks they share. `models.py` wires these managers onto the models, and
`from messaging.managers import X` keeps working for every name listed here.

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

from ._common import SEND_CHECK_ACTOR, THREAD_LOCKED
from .blocks import BlockManager, BlockQuerySet
from .connections import ConnectionManager, ConnectionQuerySet
from .group_invites import GroupInviteManager, GroupInviteQuerySet
from .messages import MessageManager, MessageQuerySet, validate_body
from .refused_attempts import RefusedContactAttemptManager, RefusedContactAttemptQuerySet
from .thread_queries import ThreadParticipantManager, ThreadParticipantQuerySet, ThreadQuerySet
from .threads import ThreadManager

__all__ = [
    "SEND_CHECK_ACTOR",
    "THREAD_LOCKED",
    "BlockManager",
    "BlockQuerySet",
    "ConnectionManager",
    "ConnectionQuerySet",
    "GroupInviteManager",
    "GroupInviteQuerySet",
    "MessageManager",
    "MessageQuerySet",
    "RefusedContactAttemptManager",
    "RefusedContactAttemptQuerySet",
    "ThreadManager",
    "ThreadParticipantManager",
    "ThreadParticipantQuerySet",
    "ThreadQuerySet",
    "validate_body",
]
