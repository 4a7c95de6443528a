"""`make bench`: run every bench/bench_*.py against PostgreSQL and print one table of figures.

Each module exposes `run(argv) -> list[Figure]`. `python -m bench.run accounts` runs only the modules
whose name contains "accounts".
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import django


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safety_portal.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.harness import print_table

    if not settings.IS_POSTGRES:
        print("make bench needs PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    _ensure_database(settings.DATABASES["default"])
    call_command("migrate", verbosity=0)
    wanted = [a for a in argv if not a.startswith("-")]
    figures = []
    import bench

    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if wanted and not any(w in info.name for w in wanted):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        print(f"== {info.name}", file=sys.stderr)
        figures.extend(module.run(argv))
    print()
    print_table(figures)
    return 0


def _ensure_database(db: dict) -> None:
    import psycopg

    name = db["NAME"]
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
