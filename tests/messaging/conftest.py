"""Fixtures for the messaging tests: audit lookups and fast password hashing for staff."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from safety_portal.core.audit.models import AuditEntry


@pytest.fixture
def audit_actions() -> Callable[[str], list[AuditEntry]]:
    """Audit entries whose action starts with `prefix`, oldest first."""

    def entries(prefix: str) -> list[AuditEntry]:
        return list(AuditEntry.objects.action_prefix(prefix).order_by("seq"))

    return entries
