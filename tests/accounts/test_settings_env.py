"""Settings come from the environment and fail loudly on bad values (issue 2, "Project and commands").

Each case imports the settings module in a fresh interpreter with an environment built from scratch,
so nothing from the test run (which sets SECRET_KEY, SECURE_SSL_REDIRECT=false, ...) leaks in.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMPORT_SETTINGS = "import safety_portal.settings"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return run(["-c", IMPORT_SETTINGS], env)


def dev_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A development environment that imports cleanly; each test breaks one value of it."""
    return {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **overrides}


def assert_refused(result: subprocess.CompletedProcess[str], *message: str) -> None:
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    for text in message:
        assert text in last_line


def test_a_good_development_environment_imports(tmp_path: Path) -> None:
    result = import_settings(**dev_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_without_debug_a_missing_secret_key_is_an_error(tmp_path: Path) -> None:
    env = dev_env(tmp_path, DEBUG="false", ALLOWED_HOSTS="portal.example.org")
    assert_refused(import_settings(**env), "SECRET_KEY is not set")


def test_without_debug_an_empty_allowed_hosts_is_an_error(tmp_path: Path) -> None:
    env = dev_env(tmp_path, DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50))
    assert_refused(import_settings(**env), "ALLOWED_HOSTS")


@pytest.mark.parametrize("value", ["ture", "2", "maybe"])
def test_a_debug_value_that_is_not_a_boolean_is_an_error(tmp_path: Path, value: str) -> None:
    assert_refused(import_settings(**dev_env(tmp_path, DEBUG=value)), f"DEBUG={value!r}")


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_a_time_zone_that_is_not_an_iana_name_is_an_error(tmp_path: Path, value: str) -> None:
    result = import_settings(**dev_env(tmp_path, TIME_ZONE=value))
    assert_refused(result, "TIME_ZONE=", "is not an IANA time zone name")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql://app@db/portal", "must be a postgres:// or sqlite:/// URL"),
        ("localhost", "must be a postgres:// or sqlite:/// URL"),
        ("postgres://", "names no database"),
        ("postgres://app@db:not-a-port/portal", "not a valid database URL"),
    ],
)
def test_a_bad_database_url_is_an_error(tmp_path: Path, value: str, message: str) -> None:
    assert_refused(import_settings(**dev_env(tmp_path, DATABASE_URL=value)), message)


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1:6379",
        "http://127.0.0.1:6379/0",
        "redis://127.0.0.1:six/0",
        "redis://:hunter2-secret@127.0.0.1:6379/cache",
        "redis:///0",
    ],
)
def test_a_bad_redis_url_is_an_error_that_does_not_echo_a_password(
    tmp_path: Path, value: str
) -> None:
    result = import_settings(**dev_env(tmp_path, REDIS_URL=value))
    assert_refused(result, "REDIS_URL is not a Redis URL")
    assert "hunter2" not in result.stderr


def test_a_number_setting_that_is_not_a_number_is_an_error(tmp_path: Path) -> None:
    result = import_settings(**dev_env(tmp_path, DB_CONN_MAX_AGE="a minute"))
    assert_refused(result, "DB_CONN_MAX_AGE='a minute' is not a whole number")


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "portal.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        **overrides,
    }


def test_the_deploy_check_passes_in_a_production_like_environment(tmp_path: Path) -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_fails_when_hsts_is_switched_off(tmp_path: Path) -> None:
    """The check above is able to fail: without HSTS Django's security.W004 is a warning."""
    env = production_env(tmp_path, SECURE_HSTS_SECONDS="0")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
