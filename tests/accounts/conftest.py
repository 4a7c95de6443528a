"""Fixtures for the accounts tests: a cast of people and audit counting."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from safety_portal.core.audit.models import AuditEntry
from tests.factories.accounts import AppUserFactory, StaffFactory


@pytest.fixture
def audit_entries() -> Callable[..., list[AuditEntry]]:
    """The audit entries written so far, oldest first, optionally only those with `action`."""

    def entries(action: str | None = None) -> list[AuditEntry]:
        qs = AuditEntry.objects.order_by("id")
        if action is not None:
            qs = qs.filter(action=action)
        return list(qs)

    return entries


@pytest.fixture
def teen(db: None) -> User:
    """A 14-year-old in Great Britain (young_teen)."""
    return AppUserFactory(age=14, country="GB", username="teen_14")


@pytest.fixture
def older_teen(db: None) -> User:
    """A 16-year-old in Great Britain (older_teen)."""
    return AppUserFactory(age=16, country="GB", username="teen_16")


@pytest.fixture
def adult(db: None) -> User:
    return AppUserFactory(age=40, country="GB", username="parent_40")


@pytest.fixture
def senior(db: None) -> User:
    """Staff with the Senior moderator role, which holds `accounts.decide_birthdatechangerequest`."""
    return StaffFactory(username="senior_mod", roles=["Senior moderator"])


@pytest.fixture
def moderator(db: None) -> User:
    """Staff without the decide permission (Moderator role)."""
    return StaffFactory(username="plain_mod", roles=["Moderator"])
