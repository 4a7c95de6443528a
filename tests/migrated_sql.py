"""The drift check between SQL generated from the rules and the SQL a migration froze (issue 11.5)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def latest_migrated(migrations: ModuleType, constant: str) -> tuple[str, str]:
    """The newest migration of the package `migrations` that defines `constant`, and its value."""
    names = sorted(m.name for m in pkgutil.iter_modules(migrations.__path__))
    found = [
        (name, getattr(module, constant))
        for name in names
        if hasattr(module := importlib.import_module(f"{migrations.__name__}.{name}"), constant)
    ]
    assert found, f"no migration of {migrations.__name__} defines {constant}"
    return found[-1]


def assert_in_step(generated: str, migrations: ModuleType, constant: str) -> None:
    """Fail when the rules render other SQL than the latest migration ran."""
    name, migrated = latest_migrated(migrations, constant)
    assert generated.strip() == migrated.strip(), (
        f"rules changed: write a migration that re-creates the trigger (the latest is {name}; "
        f"its {constant} no longer matches the SQL generated from the rules)"
    )
