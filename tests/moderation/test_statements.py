"""Statements of reasons: every restricting decision, valid against the schema, no personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.models import User
from moderation import statements
from moderation.models import Case, Decision, StatementOfReasons
from safety_portal.core import clock
from safety_portal.core.audit.actors import ActorIdentity, SystemActor
from safety_portal.rules.sor_schema import find_personal_data, validate_batch, validate_statement
from safety_portal.rules.sor_vocabulary import PUID_PATTERN, SourceType
from tests.factories.messaging import befriend, direct_thread, person, send
from tests.factories.moderation import (
    CSAM,
    MINORS,
    decided,
    report_message,
    report_user,
    trusted_flagger,
)

pytestmark = pytest.mark.django_db

RESTRICTING = [
    ("remove_messages", {"lock_thread": True}),
    ("remove_messages", {}),
    ("restrict_feature", {"feature": "direct_messages", "days": 7}),
    ("restrict_feature", {"feature": "livestream", "days": None}),
    ("suspend", {"days": 14}),
    ("terminate", {}),
    ("require_age_verification", {}),
]


def people_values(users: list[User]) -> list[str]:
    values: list[str] = []
    for user in users:
        user.refresh_from_db()
        values += [v for v in (user.username, user.email, user.external_id) if v]
    return values


def message_case(reporter: User) -> tuple[Case, User]:
    author = person(30, dm="friends")
    befriend(author, reporter)
    message = send(author, direct_thread(author, reporter), "send me your password")
    return report_message(message, reporter=reporter).case, author


@pytest.mark.parametrize(("decision_type", "options"), RESTRICTING)
def test_every_restricting_decision_has_a_valid_statement_without_personal_data(
    senior: User, decision_type: str, options: dict[str, object]
) -> None:
    reporter = person(29, dm="friends", email="reporter@example.org")
    case, author = message_case(reporter)
    ground = "tc_minimum_age" if decision_type == "require_age_verification" else "tc_harassment"
    decision = decided(case, senior, decision_type, ground=ground, **options)

    payload = StatementOfReasons.objects.get(decision=decision).payload
    assert validate_statement(payload) == []
    assert find_personal_data(payload, forbidden_values=people_values([author, reporter])) == []
    assert PUID_PATTERN.fullmatch(payload["puid"])
    assert payload["application_date"] == decision.decided_at.date().isoformat()
    assert payload["source_type"] == SourceType.ARTICLE_16
    assert "source_identity" not in payload  # a person who reported is never named
    if decision.ends_at is not None:
        end = decision.ends_at.date().isoformat()
        assert end in (
            payload.get("end_date_service_restriction"),
            payload.get("end_date_account_restriction"),
        )


@pytest.mark.parametrize("decision_type", ["no_violation", "warn", "escalate"])
def test_decisions_that_restrict_nothing_have_no_statement(
    moderator: User, decision_type: str
) -> None:
    case = report_user(person(30), reporter=person(40)).case
    decision = decided(case, moderator, decision_type)
    assert not StatementOfReasons.objects.filter(decision=decision).exists()


def test_the_puid_is_stable_and_unique(moderator: User) -> None:
    first = decided(report_user(person(30), reporter=person(40)).case, moderator, "suspend", days=3)
    second = decided(
        report_user(person(31), reporter=person(40)).case, moderator, "suspend", days=3
    )
    assert first.statement.puid != second.statement.puid
    assert first.statement.puid == statements.puid_for(Decision.objects.get(pk=first.pk))
    assert str(first.public_id) in first.statement.puid
    assert str(first.pk) not in re.split(r"[-_]", first.statement.puid)


def test_a_trusted_flaggers_statement_names_the_organisation(moderator: User) -> None:
    class Client:
        def audit_identity(self) -> ActorIdentity:
            return ActorIdentity(kind="api_client", id="5", label="hotline")

    trusted_flagger(name="Hotline of Ireland", client="5")
    case = report_user(
        person(30), reporter=None, source_type=SourceType.TRUSTED_FLAGGER, actor=Client()
    ).case
    payload = decided(case, moderator, "suspend", days=2).statement.payload
    assert payload["source_type"] == SourceType.TRUSTED_FLAGGER
    assert payload["source_identity"] == "Hotline of Ireland"
    assert validate_statement(payload) == []


def test_an_automated_detection_is_voluntary_and_says_so(moderator: User) -> None:
    case = report_user(person(30), reporter=None, rule="scam-links", actor=SystemActor("r")).case
    payload = decided(
        case, moderator, "restrict_feature", feature="gifts", days=5
    ).statement.payload
    assert payload["source_type"] == SourceType.VOLUNTARY
    assert payload["automated_detection"] == "Yes"
    assert payload["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert "source_identity" not in payload
    assert validate_statement(payload) == []


def test_an_anonymous_child_abuse_report_leads_to_an_illegal_content_statement(
    senior: User,
) -> None:
    case = report_user(
        person(30), reporter=None, category=MINORS, keywords=[CSAM], actor=SystemActor("form")
    ).case
    payload = decided(case, senior, "terminate", ground="law_child_sexual_abuse").statement.payload
    assert payload["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert payload["category"] == MINORS
    assert payload["category_specification"] == [CSAM]
    assert validate_statement(payload) == []


def test_statement_creation_is_audited(moderator: User) -> None:
    from safety_portal.core.audit.models import AuditEntry

    decision = decided(
        report_user(person(30), reporter=person(40)).case, moderator, "suspend", days=1
    )
    entry = AuditEntry.objects.get(action="moderation.statement.created")
    assert entry.after["puid"] == decision.statement.puid


# --- export_statements ------------------------------------------------------------------------


def _make_statements(moderator: User, count: int) -> None:
    reporter = person(40)
    for _ in range(count):
        decided(report_user(person(30), reporter=reporter).case, moderator, "suspend", days=2)


def test_export_writes_batches_of_at_most_100_that_validate(
    moderator: User, tmp_path: Path, settings: pytest.FixtureRequest
) -> None:
    _make_statements(moderator, 5)
    out = tmp_path / "sor.jsonl"
    call_command("export_statements", since="2020-01-01", out=str(out), batch_size=2)
    batches = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(b["statements"]) for b in batches] == [2, 2, 1]
    for batch in batches:
        assert validate_batch(batch) == []
    puids = [s["puid"] for b in batches for s in b["statements"]]
    assert len(set(puids)) == 5


def test_export_uses_100_per_batch_by_default(moderator: User, tmp_path: Path) -> None:
    _make_statements(moderator, 2)
    out = tmp_path / "sor.jsonl"
    call_command("export_statements", since="2020-01-01", out=str(out))
    (batch,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(batch["statements"]) == 2
    assert validate_batch(batch) == []


def test_export_since_leaves_out_older_statements(moderator: User, tmp_path: Path) -> None:
    _make_statements(moderator, 2)
    tomorrow = (clock.today() + dt.timedelta(days=2)).isoformat()
    out = tmp_path / "sor.jsonl"
    call_command("export_statements", since=tomorrow, out=str(out))
    assert out.read_text() == ""


@pytest.mark.parametrize("since", ["2026-02-30", "yesterday", "29/11/2026", ""])
def test_export_refuses_a_bad_date_with_a_clear_error(since: str, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--since"):
        call_command("export_statements", since=since, out=str(tmp_path / "x.jsonl"))
    assert not (tmp_path / "x.jsonl").exists()


def test_export_refuses_a_missing_folder_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_statements", since="2026-01-01", out=str(tmp_path / "no" / "x.jsonl"))
    with pytest.raises(CommandError, match="is a directory"):
        call_command("export_statements", since="2026-01-01", out=str(tmp_path))


def test_export_exits_non_zero_from_the_command_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "export_statements", "--since", "2026-13-01", "--out", "-"],
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true"},
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "--since" in result.stderr


def test_export_batches_reads_in_creation_order_across_equal_times(moderator: User) -> None:
    with time_machine.travel(clock.now(), tick=False):  # every statement at the same instant
        _make_statements(moderator, 3)
    assert StatementOfReasons.objects.values("created_at").distinct().count() == 1
    since = clock.now() - dt.timedelta(days=1)
    seen = [s["puid"] for b in statements.batches(since, size=1) for s in b["statements"]]
    expected = list(StatementOfReasons.objects.order_by("id").values_list("puid", flat=True))
    assert seen == expected
