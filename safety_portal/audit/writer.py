"""`record()`: the one way an audit entry is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, models

from safety_portal import clock

from . import chain
from .actors import identify
from .context import ip_var, request_id_var
from .models import AuditEntry
from .redaction import redact


def describe_target(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
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
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit.record() must run inside transaction.atomic() with the change it records."
        )
    if not action or "." not in action:
        raise ValueError(f"Audit action {action!r} must be a dotted code such as 'accounts.x.y'.")
    who = identify(actor)
    t_type, t_id, t_label = describe_target(target)
    today = clock.today()
    chain.lock_head()
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
    entry = AuditEntry(
        seq=seq,
        created_at=clock.now(),
        actor_kind=who.kind,
        actor_id=who.id[:64],
        actor_label=who.label[:150],
        action=action,
        target_type=target_type if target_type is not None else t_type,
        target_id=str(target_id) if target_id is not None else t_id,
        target_label=(target_label if target_label is not None else t_label)[:200],
        reason=reason,
        before=redact(before, on=today),
        after=redact(after, on=today),
        request_id=request_id_var.get(),
        ip=ip_var.get(),
        prev_hash=prev_hash,
    )
    entry.hash = chain.compute_hash(chain.entry_payload(entry))
    entry.save(_via_record=True)
    return entry
