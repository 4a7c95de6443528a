"""Shared helpers for the demo seeders: a context with the random source, output and logins."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tqdm import tqdm

from safety_portal.core.audit.actors import SystemActor

T = TypeVar("T")
DEMO_ACTOR = SystemActor("demo.seed")


@dataclass
class DemoLogin:
    role: str
    username: str
    password: str
    second_factor: list[str] = field(default_factory=list)


@dataclass
class DemoContext:
    rng: random.Random
    out: Any
    style: Any
    logins: list[DemoLogin] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def progress(self, items: Iterable[T], *, total: int, label: str) -> Iterator[T]:
        """A progress bar on a terminal; a single line when output is not a terminal."""
        yield from tqdm(items, total=total, desc=label, unit="", disable=None, file=sys.stderr)

    def say(self, message: str) -> None:
        self.out.write(f"  {message}")

    def print_logins(self) -> None:
        self.out.write(self.style.SUCCESS("\nDemo logins (portal at http://127.0.0.1:8000/):"))
        for login in self.logins:
            self.out.write(f"  {login.role:<18} {login.username:<14} password: {login.password}")
            for line in login.second_factor:
                self.out.write(f"  {'':<18} {line}")
        for note in self.notes:
            self.out.write(f"  • {note}")
