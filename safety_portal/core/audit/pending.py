"""`Pending`: one entry of a batch written by `record_many` (no model import, so callers can build
batches before the app registry is ready)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pending:
    """What differs between the entries of one batched action: target, values, reason."""

    target: Any = None  # a saved model instance, or None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str = ""
    # For a target that is not loaded as a model instance (the same three as `record()` takes).
    target_type: str | None = None
    target_id: str | None = None
    target_label: str | None = None
