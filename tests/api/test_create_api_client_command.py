"""`manage.py create_api_client`: prints the token once, stores its hash, fails clearly."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from safety_portal.core.api.managers import hash_token
from safety_portal.core.api.models import ApiClient, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_a_working_token_once_and_stores_only_its_hash():
    output = _run("app-backend", "--scopes", "users:write,users:read")
    token = next(line for line in output.splitlines() if line.startswith("spk_"))
    client = ApiClient.objects.get(name="app-backend")
    assert client.scopes == ["users:write", "users:read"]
    assert client.token_hash == hash_token(token)
    assert ApiClient.objects.authenticate(token) == client


def test_the_command_can_register_a_webhook_and_prints_its_secret():
    output = _run(
        "hotline",
        "--scopes",
        "cases:read",
        "--webhook-url",
        "https://hooks.example.org/safety",
        "--webhook-events",
        "decision.taken",
    )
    endpoint = WebhookEndpoint.objects.get(client__name="hotline")
    assert endpoint.events == ["decision.taken"]
    assert endpoint.secret in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--scopes", "users:read,users:delete"], "users:delete"),
        (["x", "--scopes", "users:read", "--throttle-rate", "lots"], "throttle"),
        (["x", "--scopes", "cases:read", "--webhook-url", "ftp://nope"], "url"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiClient.objects.exists()


def test_a_duplicate_name_is_refused():
    _run("dup", "--scopes", "users:read")
    with pytest.raises(CommandError, match="exists"):
        _run("dup", "--scopes", "users:read")


def test_the_command_exits_non_zero_on_error():
    """Through manage.py, as an operator runs it: an unknown scope fails before any database use."""
    from django.db import connection

    root = Path(__file__).resolve().parents[2]
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_client", "x", "--scopes", "nope"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": url},
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Unknown scope(s): nope" in result.stderr
