"""The append-only audit log. Write with `record(...)`, inside the transaction of the change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .pending import Pending

if TYPE_CHECKING:
    from django.db import models

    from .models import AuditEntry


def record(
    *,
    actor: object,
    action: str,
    target: models.Model | None = None,
    reason: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit chain; see `safety_portal.core.audit.writer.record`.

    Imported lazily so that `from safety_portal.core import audit` works before the app registry is
    ready (models import it at module level).
    """
    # body import: the writer imports the models, and models import this package at module level
    from .writer import record as _record

    return _record(
        actor=actor,
        action=action,
        target=target,
        reason=reason,
        before=before,
        after=after,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
    )


def record_many(*, actor: object, action: str, entries: Sequence[Pending]) -> int:
    """One entry per item under one take of the chain-head lock; see `writer.record_many`."""
    # body import: the writer imports the models, and models import this package at module level
    from .writer import record_many as _record_many

    return _record_many(actor=actor, action=action, entries=entries)
