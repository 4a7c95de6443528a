"""A report's way to its case: the open case on its subject, found and locked by one statement,
or a new case opened for it (the hot path of filing, issue 6).

Used only by `filing.py`; kept apart because the statement is hand-written SQL with its own
reasoning about snapshots and locks, which deserves a room of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)

from accounts.models import User
from safety_portal import rules
from safety_portal.core.loaded_columns import Columns, all_columns

from ..models import Case, Report, ReporterStanding
from ..subjects import Subject


@functools.cache
def _intake_sql(vendor: str, reported: tuple[str, ...]) -> str:
    """The statement behind `locked_for_intake`, per database and per shape of
    "reported before" (`reported`: the Report fields compared). Written out rather than built
    with the ORM because it runs on every report: assembling it from Exists/Subquery expressions
    took Django about twice as long as PostgreSQL takes to run it (0.7 ms against 0.3 ms on the
    bench machine). Column names come from the models, so a renamed field fails here rather than
    silently."""
    qn = connection.ops.quote_name

    def col(model: type[models.Model], name: str) -> str:
        return qn(model._meta.get_field(name).column)

    def table(model: type[models.Model]) -> str:
        return qn(model._meta.db_table)

    earlier = " AND ".join(f"r.{col(Report, name)} = %s" for name in reported)
    lock = " FOR UPDATE OF c" if vendor == "postgresql" else ""  # SQLite: IMMEDIATE transactions
    # PostgreSQL: the report's id is taken from its sequence here, so that the report, the case,
    # the caller's rows and the audit entry naming the report are written by one statement.
    next_id = (
        f"nextval(pg_get_serial_sequence('{table(Report)}', '{Report._meta.pk.column}'))"
        if vendor == "postgresql"
        else "NULL"
    )
    return (
        f"SELECT {_case_columns(vendor).sql()}, u.{col(User, 'birthdate')} AS intake_subject_born, "
        f"{next_id} AS intake_report_id, "
        f"EXISTS(SELECT 1 FROM {table(Report)} r WHERE r.{col(Report, 'case')} = c.{col(Case, 'id')}"
        f" AND {earlier}) AS intake_already_reported, "
        f"EXISTS(SELECT 1 FROM {table(ReporterStanding)} m"
        f" WHERE m.{col(ReporterStanding, 'reporter')} = %s"
        f" AND m.{col(ReporterStanding, 'marked_at')} IS NOT NULL) AS intake_reporter_marked, "
        f"(SELECT s.{col(Case, 'report_count')} FROM {table(Case)} s"
        f" WHERE s.{col(Case, 'id')} = c.{col(Case, 'id')}) AS intake_seen_report_count "
        f"FROM {table(Case)} c LEFT JOIN {table(User)} u"
        f" ON u.{col(User, 'id')} = c.{col(Case, 'subject_user')} "
        f"WHERE c.{col(Case, 'subject_key')} = %s"
        f" AND c.{col(Case, 'status')} IN ({', '.join(['%s'] * len(rules.casework.OPEN_STATUSES))}){lock}"
    )


def locked_for_intake(
    subject_key: str, *, reported: Mapping[str, Any], reporter_id: int | None
) -> Case | None:
    """The open case on `subject_key`, locked, with what filing a report on it needs, read by
    the one statement that takes the lock (filing's hot path).

    Attributes besides the case's own: `intake_subject_born` (the subject user's birthdate;
    None for a staff account or a thread), `intake_already_reported` (an earlier report on
    the case matches `reported`, Report field names to values), `intake_reporter_marked` (the
    reporter is marked under DSA art. 23; False without one) and `intake_seen_report_count`
    (the case's report count in the statement's snapshot), and `intake_report_id` (on
    PostgreSQL, an id taken from the reports' sequence for the report being filed; None on
    SQLite).

    Why `intake_seen_report_count`: under READ COMMITTED, a statement that waited for the row lock returns
    the row as its holder committed it, but its subqueries still read the snapshot taken
    before the wait. Every report bumps `report_count` under this lock, so when the locked
    row's count differs from the snapshot's, a report joined in between and
    `intake_already_reported` may be stale: the caller asks again with a new statement.
    """
    names = tuple(reported)
    params = [value.pk if isinstance(value, models.Model) else value for value in reported.values()]
    params += [reporter_id, subject_key, *rules.casework.OPEN_STATUSES]
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_intake_sql(db.vendor, names), params)
        row = cursor.fetchone()
    if row is None:
        return None
    # The case's columns as a query would load them (each through its field's converters: JSON
    # on PostgreSQL, dates and 0/1 on SQLite), without a RawQuerySet's mapping of the columns
    # by name on every call.
    columns = _case_columns(db.vendor)
    n = len(columns)
    case = columns.instance(row[:n])
    born, report_id, already, marked, seen = row[n:]
    case.intake_subject_born = User._meta.get_field("birthdate").to_python(born)
    case.intake_report_id = report_id
    case.intake_already_reported = bool(already)
    case.intake_reporter_marked = bool(marked)
    case.intake_seen_report_count = seen
    return case


@functools.cache
def _case_columns(vendor: str) -> Columns:
    """Every column of the case, selected under `c` (built once per backend, its converters
    looked up then)."""
    return all_columns(Case, "c")


def open_new_for_subject(
    subject: Subject, *, category: str, severity: int, now: dt.datetime
) -> tuple[Case, bool]:
    """Open a case on `subject`, which had no open case a moment ago; (case, True). When a
    concurrent report opened one first, the partial unique index makes this one wait for it
    and join it, locked: (that case, False)."""
    fields: dict[str, Any] = {
        "subject_key": subject.key,
        "subject_type": subject.type,
        "subject_user_id": subject.user_id,
        "category": category,
        "severity": int(severity),
        "priority_score": int(severity),
        "priority": int(rules.priority.band_for(int(severity))),
        "opened_at": now,
        "due_at": now + rules.priority.DUE_IN[rules.priority.band_for(int(severity))],
    }
    if subject.message_id is not None:
        fields["subject_message_id"] = subject.message_id
    if subject.thread_id is not None:
        fields["subject_thread_id"] = subject.thread_id
    try:
        with transaction.atomic():
            return Case.objects.create(**fields), True
    except IntegrityError:
        case = Case.objects.select_for_update().get(
            subject_key=subject.key, status__in=rules.casework.OPEN_STATUSES
        )
        return case, False
