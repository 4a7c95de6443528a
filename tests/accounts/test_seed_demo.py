"""`manage.py seed_demo` seeds believable accounts, and a second run adds nothing (issue 2, `make demo`).

On PostgreSQL it runs in the test database; on SQLite (the embedded demo) it runs in a subprocess
against a fresh file, because the test process is bound to PostgreSQL. Only the accounts seeder runs
here (`--only accounts`): the other apps test their own seeders.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import BirthdateChangeRequest, GuardianLink, SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
COUNT_ROWS = """
import json
from accounts.models import BirthdateChangeRequest, GuardianLink, SafetySettings, User
from safety_portal.core.audit.models import AuditEntry
print(json.dumps({m.__name__: m.objects.count() for m in
    (User, SafetySettings, BirthdateChangeRequest, GuardianLink, AuditEntry)}))
"""


def row_counts() -> dict[str, int]:
    models = (User, SafetySettings, BirthdateChangeRequest, GuardianLink, AuditEntry)
    return {m.__name__: m.objects.count() for m in models}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--only", "accounts", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seeding_twice_on_postgresql_adds_nothing_the_second_time() -> None:
    first_output = seed()
    first = row_counts()

    seed()

    assert row_counts() == first
    assert first["User"] >= 200 + 5
    for role in ("Triage", "Moderator", "Senior moderator", "Auditor", "Administrator"):
        assert role in first_output  # one printed login per staff role


@pytest.mark.django_db
def test_the_demo_has_every_tier_many_countries_and_the_boundary_people() -> None:
    seed()
    today = clock.today()
    app_users = User.objects.app_users()

    assert app_users.count() >= 200
    assert app_users.values("country").distinct().count() >= 8
    for tier in rules.vocabulary.Tier:
        assert app_users.in_tier(tier, on=today).exists(), tier

    maya = User.objects.get(username="maya_sweet16")
    assert maya in User.objects.turning(16, on=today)
    luca = User.objects.get(username="luca_leapday")
    assert (luca.birthdate.month, luca.birthdate.day) == (2, 29)
    noah = User.objects.get(username="noah_almost18")
    assert noah.age(today) == 17
    assert noah in User.objects.turning(18, on=today + dt.timedelta(days=1))

    pending = BirthdateChangeRequest.objects.get(status="pending")
    assert pending.user.username == "sofia_says_older"
    assert pending.makes_older
    link = GuardianLink.objects.get(status="active")
    assert (link.guardian.username, link.teen.username) == ("parent_ana", "teo_ana")
    assert link.dm_off is True
    tom = User.objects.get(username="tom_age_corrected")
    assert tom.status == rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW
    assert tom in User.objects.below_minimum_age(on=today)

    senior = User.objects.get(username="senior")
    assert senior.has_perm("accounts.decide_birthdatechangerequest")


def test_seeding_twice_on_sqlite_adds_nothing_the_second_time(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--only", "accounts", "--quiet-logins")
    first = json.loads(manage("shell", "--no-imports", "-c", COUNT_ROWS))
    manage("seed_demo", "--only", "accounts", "--quiet-logins")
    second = json.loads(manage("shell", "--no-imports", "-c", COUNT_ROWS))

    assert second == first
    assert first["User"] >= 205
    assert first["GuardianLink"] == 1
    assert first["BirthdateChangeRequest"] == 2
