"""Who did it: every audit entry names an actor of one of three kinds.

A staff or app user, an API client (another internal service), or a system job. The acting person is
never optional (STYLE.md idea 4), so jobs name themselves with a `SystemActor` instead of passing None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ActorIdentity:
    kind: str  # "user" | "api_client" | "system"
    id: str
    label: str


@runtime_checkable
class Actor(Protocol):
    def audit_identity(self) -> ActorIdentity: ...


@dataclass(frozen=True)
class SystemActor:
    """A background job or the portal itself, e.g. SystemActor("task.birthday_transitions")."""

    name: str

    def audit_identity(self) -> ActorIdentity:
        return ActorIdentity(kind="system", id=self.name, label=self.name)


def identify(actor: object) -> ActorIdentity:
    # The protocol's one method, looked up directly: `isinstance` against a runtime-checkable
    # Protocol walks the protocol's attributes on every call, and every audited write asks.
    audit_identity = getattr(actor, "audit_identity", None)
    if callable(audit_identity):
        return audit_identity()
    raise TypeError(
        f"{actor!r} cannot act: pass a user, an API client or a SystemActor (never None)."
    )
