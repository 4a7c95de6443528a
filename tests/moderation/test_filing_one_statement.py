"""Filing's two paths write the same rows (D27): on PostgreSQL a report joining an open case is
written with its case, the caller's rows and its audit entry by one statement
(`core.combined_writes`); the SQLite demo, and every case opening, write them one by one. The same
reports are filed both ways at the same frozen moment and everything they wrote is compared."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction

from moderation import services
from moderation.actions import filing
from moderation.models import Case, Flag, Report, ReporterStanding
from safety_portal.core import combined_writes
from safety_portal.core.api.models import ApiClient, IdempotencyRecord
from safety_portal.core.audit.actors import ActorIdentity, SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword, SourceType
from tests.factories.messaging import person
from tests.factories.moderation import GROOMING, HARASSMENT, MINORS, SCAM, trusted_flagger

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the one statement is PostgreSQL's"
    ),
]

MOMENT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


class Integration:
    def __init__(self, name: str) -> None:
        self.name = name

    def audit_identity(self) -> ActorIdentity:
        return ActorIdentity(kind="api_client", id="7", label=self.name)


def _file_everything(names: dict[int, str], run: str) -> list[Report]:
    """A case opened, then joined by every kind of reporter: a new user, the same user again, a
    marked user (DSA art. 23), an integration, a trusted flagger, an age report that raises a
    flag, a grooming report that raises the priority, and one whose caller adds its own row."""
    subject, first, second = person(30), person(25), person(26)
    marked = person(27)
    teen = person(15)
    names.update({subject.pk: "subject", first.pk: "first", second.pk: "second"})
    names.update({marked.pk: "marked", teen.pk: "teen"})
    ReporterStanding.objects.record_outcomes([marked.pk] * 6, upheld=False, actor=SystemActor("t"))
    flagger = trusted_flagger(f"Hotline {run}")
    client, _token = ApiClient.objects.create_client(
        name=f"hotline-feed-{run}", scopes=["reports:write"], actor=SystemActor("t")
    )

    def file(**kwargs: Any) -> Report:
        kwargs.setdefault("actor", kwargs.get("reporter") or SystemActor("t"))
        kwargs.setdefault("category", HARASSMENT)
        return services.file_report(subject_type="user", subject_id=subject.pk, **kwargs)

    def idempotency_row(report: Report) -> list[IdempotencyRecord]:
        return [
            IdempotencyRecord(
                client=client,
                key=f"k-{report.pk}",
                method="POST",
                path="/api/v1/reports/",
                request_hash="0" * 64,
                response_status=201,
                response_body={"id": report.pk, "priority": report.case.priority},
                created_at=MOMENT,
            )
        ]

    return [
        file(reporter=first, explanation="Opens the case."),
        file(reporter=second, category=SCAM, explanation="A new reporter."),
        file(reporter=first, explanation="The same reporter again."),
        file(reporter=marked, explanation="A marked reporter."),
        file(actor=Integration("classifier"), source_type=SourceType.OTHER_NOTIFICATION),
        file(actor=SystemActor("t"), trusted_flagger=flagger, category=SCAM),
        file(
            reporter=teen,
            category=MINORS,
            keywords=[CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS],
            explanation="An age signal.",
        ),
        file(reporter=second, category=MINORS, keywords=[GROOMING], explanation="Raises it."),
        file(reporter=first, category=Category.SCAMS_AND_FRAUD, before_audit=idempotency_row),
    ]


def _written(reports: list[Report], names: dict[int, str]) -> dict[str, Any]:
    """Everything the reports wrote, with ids replaced by who or what they name."""
    case_ids = {r.case_id for r in reports}
    [case] = Case.objects.filter(pk__in=case_ids)
    report_ids = {r.pk: f"report {n}" for n, r in enumerate(reports)}

    def named(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: named(v) for k, v in value.items() if k not in {"case", "report", "id"}}
        if isinstance(value, str) and value.startswith("user:"):
            return "user:" + names[int(value[5:])]
        return value

    skip = {"id", "case", "reporter", "subject_user", "trusted_flagger", "created_at"}
    rows = [
        {f.name: getattr(r, f.attname) for f in Report._meta.concrete_fields if f.name not in skip}
        | {"reporter": names.get(r.reporter_id), "subject": names.get(r.subject_user_id)}
        for r in Report.objects.filter(pk__in=report_ids).order_by("id")
    ]
    case_row = {
        f.name: getattr(case, f.attname)
        for f in Case._meta.concrete_fields
        if f.name not in {"id", "subject_key", "subject_user"}
    }
    targets = {("moderation.report", str(pk)): name for pk, name in report_ids.items()}
    targets[("moderation.case", str(case.pk))] = "case"
    entries = [
        (
            e.action,
            targets[(e.target_type, e.target_id)],
            e.actor_kind,
            names[int(e.actor_id)] if e.actor_kind == "user" else e.actor_label,
            named(e.before),
            named(e.after),
        )
        for e in AuditEntry.objects.filter(
            target_type__in=["moderation.report", "moderation.case"],
            target_id__in=[str(pk) for pk in report_ids] + [str(case.pk)],
        ).order_by("id")
        if (e.target_type, e.target_id) in targets
    ]
    flags = [
        (names[f.user_id], f.kind, f.status, [named(s) for s in f.signals])
        for f in Flag.objects.filter(case=case).order_by("id")
    ]
    records = [
        (r.response_status, named(r.response_body))
        for r in IdempotencyRecord.objects.filter(key__in=[f"k-{pk}" for pk in report_ids])
    ]
    return {"reports": rows, "case": case_row, "audit": entries, "flags": flags, "records": records}


def _both_ways(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    statements: list[int] = []
    original = combined_writes.write

    def counting(parts: Any) -> Any:
        statements.append(len(parts))
        return original(parts)

    monkeypatch.setattr(combined_writes, "write", counting)
    results = []
    for one_statement in (True, False):
        monkeypatch.setattr(filing, "one_statement_available", lambda on=one_statement: on)
        names: dict[int, str] = {}
        with time_machine.travel(MOMENT, tick=False):
            reports = _file_everything(names, str(one_statement))
        results.append(_written(reports, names))
        if one_statement:
            # Every report after the first joined the case; each went through the one
            # statement (the age report's entry follows its flag's).
            assert len(statements) == len(reports) - 1
            statements.clear()
    assert statements == []  # the other path never used it
    return results[0], results[1]


def test_the_one_statement_writes_what_the_rows_one_by_one_write(monkeypatch) -> None:
    one_statement, one_by_one = _both_ways(monkeypatch)
    assert one_statement["reports"] == one_by_one["reports"]
    assert one_statement["case"] == one_by_one["case"]
    assert one_statement["audit"] == one_by_one["audit"]
    assert one_statement["flags"] == one_by_one["flags"]
    assert one_statement["records"] == one_by_one["records"]
    # The scenario did reach what it was meant to check.
    audit = one_statement["audit"]
    assert [a[0] for a in audit].count("moderation.report.filed") == 9
    assert "moderation.case.priority_raised" in [a[0] for a in audit]
    assert one_statement["flags"]
    assert one_statement["records"]
    assert any(r["low_credibility"] for r in one_statement["reports"])


def test_a_part_that_writes_nothing_fails_the_statement() -> None:
    """An UPDATE whose row is gone writes nothing: the combined write refuses to pass over it."""
    subject = person(30)
    report = services.file_report(
        actor=SystemActor("t"),
        subject_type="user",
        subject_id=subject.pk,
        category=HARASSMENT,
        reporter=person(25),
    )
    case = report.case
    case.pk = case.pk + 10_000
    with pytest.raises(RuntimeError, match="wrote nothing"), transaction.atomic():
        combined_writes.write([combined_writes.update(case, ["report_count"])])
