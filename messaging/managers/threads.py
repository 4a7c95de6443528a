"""`Thread.objects`: starting threads, adding people, locking and unlocking (POLICY.md §3).

The manager is stacked from one module per concern, each small enough to read at once:
`thread_queries` (the read vocabulary: `for_user`, `shared_by`, `direct_between`, ...),
`thread_locking` (lock, unlock, relock) and `thread_opening` (start, add a participant).
"""

from __future__ import annotations

from .thread_opening import ThreadOpening


class ThreadManager(ThreadOpening):
    """Starting threads, adding people, locking and unlocking (POLICY.md §3)."""
