"""The limits of messaging, stated once (issue 3: "sensible limits, stated and enforced").

The managers refuse input beyond these with a `DomainError` carrying field errors; the database
repeats the ones it can express (body length, participants per group) so that a write that walks
around a manager is refused there too.
"""

from __future__ import annotations

from typing import Final

# Characters (Unicode code points, which is also what PostgreSQL's char_length counts) in one message.
# Long enough for a real conversation, short enough that a message is read rather than pasted.
MAX_BODY_LENGTH: Final = 2000

# People in one group thread, the creator included. Small groups are what the app offers; a larger
# audience is a broadcast, which minors may not receive from strangers anyway (POLICY.md §3).
MAX_GROUP_PARTICIPANTS: Final = 50

# A group title (direct threads have none).
MAX_TITLE_LENGTH: Final = 100

# Messages returned by one staff read; a reviewer pages with `before=` for more.
MAX_STAFF_READ: Final = 500
DEFAULT_STAFF_READ: Final = 200

# Messages either side of a reported one that a reviewer reads first (issue 15.1): enough to see
# how the conversation got there and what followed; `before=` pages further back.
STAFF_CONTEXT_WINDOW: Final = 10

# The reason code stored on a lock: a policy `Reason` value or a short staff code.
MAX_LOCK_REASON_LENGTH: Final = 40

# Free-text reasons stored on a lock (the audit entry keeps the full text as well).
MAX_LOCK_DETAIL_LENGTH: Final = 500
