"""Fixtures for the messaging tests: `audit_actions`, the audit entries of one action prefix.

(Fast password hashing for staff comes from `tests/conftest.py`, for every folder.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from safety_portal.core.audit.models import AuditEntry


@pytest.fixture
def audit_actions() -> Callable[[str], list[AuditEntry]]:
    """Audit entries whose action starts with `prefix`, oldest first."""

    def entries(prefix: str) -> list[AuditEntry]:
        return list(AuditEntry.objects.action_prefix(prefix).order_by("id"))

    return entries
