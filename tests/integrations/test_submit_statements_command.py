"""`manage.py submit_statements`: exit 0 when all is sent, a clear error otherwise (issue 12.4)."""

from __future__ import annotations

import socket

import pytest
from django.core.management import CommandError, call_command

from safety_portal.integrations.models import StatementSubmission

from .tdb_server import Trouble

pytestmark = pytest.mark.django_db


def test_the_command_sends_everything_and_exits_zero(tdb, make_statements, capsys):
    make_statements(120)
    call_command("submit_statements")
    assert "120 accepted" in capsys.readouterr().err
    assert [len(c) for c in tdb.state.calls] == [100, 20]
    assert not StatementSubmission.objects.pending().exists()


def test_the_command_fails_clearly_when_the_token_is_refused(tdb, make_statements, settings):
    settings.TRANSPARENCY_DB_TOKEN = "X|wrong"
    make_statements(2)
    with pytest.raises(CommandError, match=r"refused the token .*HTTP 401.*TRANSPARENCY_DB_TOKEN"):
        call_command("submit_statements")


def test_the_command_fails_clearly_when_the_database_is_unreachable(make_statements, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.TRANSPARENCY_DB_URL = f"http://127.0.0.1:{port}"
    settings.TRANSPARENCY_DB_TOKEN = "X|token"
    make_statements(2)
    with pytest.raises(CommandError, match=r"unreachable or failing .*retried"):
        call_command("submit_statements")
    assert StatementSubmission.objects.pending().count() == 2


def test_the_command_fails_when_throttled_and_says_it_will_retry(tdb, make_statements):
    make_statements(2)
    tdb.state.troubles = [Trouble(status=429, headers={"Retry-After": "30"})]
    with pytest.raises(CommandError, match="slow down"):
        call_command("submit_statements")


def test_the_command_says_submission_is_off_without_a_url(make_statements, settings, capsys):
    settings.TRANSPARENCY_DB_URL = ""
    make_statements(1)
    call_command("submit_statements")
    assert "submission is off" in capsys.readouterr().err


def test_the_command_refuses_a_batch_size_above_100(tdb):
    with pytest.raises(CommandError, match="between 1 and 100"):
        call_command("submit_statements", batch_size=101)
