"""Root of the test suite.

Tests that need Django get their shared fixtures from `tests/django_fixtures.py`, registered here
only while pytest-django is active; the pure rule tests run without it, in seconds:
`pytest tests/rules -p no:django` (issue 10).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.has_plugin("django"):
        from tests import django_fixtures

        config.pluginmanager.register(django_fixtures, "tests.django_fixtures")
