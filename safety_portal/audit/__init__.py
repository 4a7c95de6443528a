"""The append-only audit log. Write with `record(...)`, inside the transaction of the change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import AuditEntry


def record(**kwargs: Any) -> AuditEntry:
    from .writer import record as _record

    return _record(**kwargs)
