"""`record()`: the one way an audit entry is written."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from django.db import connection, models

from safety_portal.core import clock

from . import chain
from .actors import identify
from .context import ip_var, request_id_var
from .models import AuditEntry
from .redaction import clean_text, redact

ACTION_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
ACTION_MAX_LENGTH = 100


def describe_target(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if target.pk is None:
        raise ValueError(
            f"Audit target {target!r} has no primary key yet: save it before recording the change."
        )
    return target._meta.label_lower, str(target.pk), str(target)[:200]


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
    """Append one entry to the chain, in the caller's transaction.

    It must run inside `transaction.atomic()` together with the change it describes, so that a failed
    change leaves no entry and a failed audit write rolls the change back (issue 2; POLICY.md §6).
    Call it as the last write of the transaction: from here to the commit the transaction holds the
    chain-head lock, and every other audited write waits for it (decisions D3).

    Values are redacted before they are stored (`redaction.py`, POLICY.md §1 and §4). An id longer
    than its column (target id 64 characters) is refused by the database rather than truncated: a
    shortened id would point at the wrong thing.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit.record() must run inside transaction.atomic() with the change it records."
        )
    if (
        not isinstance(action, str)
        or len(action) > ACTION_MAX_LENGTH
        or not ACTION_CODE.match(action)
    ):
        raise ValueError(
            f"Audit action {action!r} must be a dotted lower-case code such as "
            f"'accounts.status.changed' (at most {ACTION_MAX_LENGTH} characters)."
        )
    who = identify(actor)
    if not who.id or who.id == "None":
        raise ValueError(f"Actor {actor!r} has no identity yet (an unsaved user?).")
    t_type, t_id, t_label = describe_target(target)
    today = clock.today()
    before_json = redact(before, on=today)
    after_json = redact(after, on=today)
    ip = ip_var.get()
    entry = AuditEntry(
        actor_kind=who.kind,
        actor_id=clean_text(who.id)[:64],
        actor_label=clean_text(who.label)[:150],
        action=action,
        target_type=clean_text(target_type if target_type is not None else t_type),
        target_id=clean_text(str(target_id) if target_id is not None else t_id),
        target_label=clean_text(target_label if target_label is not None else t_label)[:200],
        reason=clean_text(reason),
        before=before_json,
        after=after_json,
        request_id=request_id_var.get()[:64],
        ip=str(ipaddress.ip_address(ip)) if ip else None,
    )
    # Everything above is prepared before taking the lock, so the lock is held for as little
    # work as possible: read the head (same round trip as the lock), hash, insert.
    head = chain.lock_and_read_head()
    entry.seq, entry.prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
    entry.created_at = clock.now()
    entry.hash = chain.compute_hash(chain.entry_payload(entry))
    entry.save(_via_record=True)
    return entry
