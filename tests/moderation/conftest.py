"""Fixtures for the moderation tests: staff of each role, audit lookups, fast password hashing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from safety_portal.core.audit.models import AuditEntry
from tests.factories.moderation import staff


@pytest.fixture
def triage(db: None) -> User:
    return staff("Triage")


@pytest.fixture
def moderator(db: None) -> User:
    return staff("Moderator")


@pytest.fixture
def other_moderator(db: None) -> User:
    return staff("Moderator")


@pytest.fixture
def senior(db: None) -> User:
    return staff("Senior moderator")


@pytest.fixture
def other_senior(db: None) -> User:
    return staff("Senior moderator")


@pytest.fixture
def auditor(db: None) -> User:
    return staff("Auditor")


@pytest.fixture
def audit_actions() -> Callable[[str], list[AuditEntry]]:
    """Audit entries whose action starts with `prefix`, oldest first."""

    def entries(prefix: str) -> list[AuditEntry]:
        return list(AuditEntry.objects.filter(action__startswith=prefix).order_by("id"))

    return entries
