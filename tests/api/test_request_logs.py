"""Structured logs: each line names its request and the acting client, and never holds a
birthdate, a message body or a token (issue 14.3)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from safety_portal.core.logs import REDACTED, JsonLines, RequestFields

from .conftest import Caller


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, object]]]]:
    """The lines the production formatter writes, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    production = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    handler.setFormatter(JsonLines(**production))
    handler.addFilter(RequestFields())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_refused_request_is_logged_with_its_request_id_and_the_api_client(
    make_caller: Callable[..., Caller], json_lines: Callable[[], list[dict[str, object]]]
) -> None:
    caller = make_caller("reports:write")
    response = caller.post("/api/v1/reports/", {"category": "nonsense"})
    assert response.status_code == 400
    (line,) = [x for x in json_lines() if x["logger"] == "django.request"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["actor_kind"] == "api_client"
    assert line["actor_id"] == str(caller.client.pk)
    assert line["level"] == "WARNING"
    assert "request" not in line  # the request's text (path and query string) is not logged
    assert str(line["time"]).endswith("+00:00")


def test_fields_named_like_personal_data_or_secrets_are_redacted(
    json_lines: Callable[[], list[dict[str, object]]],
) -> None:
    logging.getLogger("tests.logs").warning(
        "checked",
        extra={
            "birthdate": "2011-04-02",
            "message_body": "meet me after school",
            "token": "sp_live_abc",
            "password": "hunter2",
            "case_id": 17,
        },
    )
    (line,) = json_lines()
    for key in ("birthdate", "message_body", "token", "password"):
        assert line[key] == REDACTED
    assert line["case_id"] == 17
    assert "2011-04-02" not in json.dumps(line)


def test_outside_a_request_the_request_fields_are_empty(
    json_lines: Callable[[], list[dict[str, object]]],
) -> None:
    logging.getLogger("tests.logs").warning("from a job")
    (line,) = json_lines()
    assert (line["request_id"], line["actor_kind"], line["actor_id"]) == ("", "", "")


def test_an_unknown_log_format_stops_the_process_at_start_up() -> None:
    env = {**os.environ, "LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "safety_portal.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT must be json or plain" in done.stderr
