"""Reading a thread for a decision in one query: its participants, their relations, their facts.

Two readers:

- `participant_rows(thread_ids)`: participants of any number of threads with their user, their
  thread, and their relations (friendship with whoever added them, blocks with anyone in the thread).
  The policy facts then come from `accounts.facts.facts_for` (three more queries). Used by starts,
  adds, locks and unlocks.
- `send_snapshot(thread_id, at=...)`: the same rows **and** the policy facts of every participant,
  in a single query. Used by `Message.objects.send`, the one hot path (issue 3: a send costs at most
  six queries and at most twice a bare INSERT). It reads exactly what `facts_for` reads — the
  safety settings, the active guardian links, the restrictions in force at `at` — and hands them to
  `accounts.facts.assemble`, the same per-user assembly `facts_for` uses.
  It leaves out the age-assurance results (POLICY.md §7.2): they decide only `hold_account`,
  livestream and gifts, which no messaging rule reads, and the hot path stays one query.
  `tests/messaging/test_snapshot.py` holds the two to equality over a
  varied cast (every status, ended/lifted/future restrictions, several guardians, quiet hours); if
  accounts or moderation change what a fact means, that test fails.

The SQL is written by hand, portable to SQLite (the embedded demo), with table and column names
taken from the models and values passed through Django's own converters, because building the same
shape through the ORM (correlated `Exists`, `select_related`) cost several milliseconds of query
compilation per send, many times what PostgreSQL spends running it (bench/bench_messaging.py).
On PostgreSQL the send's query runs inside a PL/pgSQL function (`function_sql`, migration 0006)
so that the server plans it once per connection instead of on every send (D24).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from accounts.facts import assemble
from accounts.managers import ActiveRestrictions
from accounts.models import GuardianLink, Restriction, SafetySettings, User
from safety_portal import rules
from safety_portal.core.loaded_columns import Columns

from .registry import thread_model

if TYPE_CHECKING:
    from .models import Thread


@dataclass(frozen=True)
class ParticipantRow:
    """One participant with their user, their thread and their relations, as read for a check."""

    thread: Thread
    user: User
    user_id: int
    added_by_id: int
    follows_adder: bool
    followed_by_adder: bool
    blocked_in_thread: bool


@functools.cache
def _columns_for(vendor: str) -> dict[str, Columns]:
    return {
        "thread": Columns(thread_model(), "t", ["id", "kind", "creator", "locked"]),
        "user": Columns(User, "u", ["id", "birthdate", "country", "status", "date_joined"]),
        "settings": Columns(
            SafetySettings, "s", ["id", "user", *rules.safety_settings.SETTING_NAMES]
        ),
        "link": Columns(
            GuardianLink,
            "g",
            [
                "id",
                "teen",
                "dm_off",
                "daily_screen_time_minutes",
                "quiet_hours_start",
                "quiet_hours_end",
                "consents_to_personalisation",
            ],
        ),
        "restriction": Columns(Restriction, "r", ["id", "kind", "feature"]),
    }


def _columns() -> dict[str, Columns]:
    return _columns_for(connection.vendor)


# Each EXISTS probe is answered by a unique pair index (connection_unique_pair, block_unique_pair /
# block_blocked, participant_unique).
_RELATIONS = """
       EXISTS (SELECT 1 FROM messaging_connection c
               WHERE c.follower_id = p.user_id AND c.followee_id = p.added_by_id),
       EXISTS (SELECT 1 FROM messaging_connection c
               WHERE c.follower_id = p.added_by_id AND c.followee_id = p.user_id),
       EXISTS (SELECT 1 FROM messaging_block b
               JOIN messaging_threadparticipant o
                 ON o.thread_id = p.thread_id AND o.user_id = b.blocked_id
               WHERE b.blocker_id = p.user_id)
       OR EXISTS (SELECT 1 FROM messaging_block b
               JOIN messaging_threadparticipant o
                 ON o.thread_id = p.thread_id AND o.user_id = b.blocker_id
               WHERE b.blocked_id = p.user_id)"""


def _query(thread_ids: Sequence[int], *, facts_at: dt.datetime | None) -> tuple[str, list[Any]]:
    db = connections[DEFAULT_DB_ALIAS]
    if facts_at is not None and db.vendor == "postgresql":
        # The stored function below: its plan is cached by the server (see `function_sql`).
        assert len(thread_ids) == 1, "the send reads one thread"
        return f"SELECT * FROM {SEND_SNAPSHOT_FUNCTION}(%s, %s)", [
            int(thread_ids[0]),
            db.ops.adapt_datetimefield_value(facts_at),
        ]
    sql = _sql(connection.vendor, len(thread_ids), with_facts=facts_at is not None)
    if facts_at is None:
        return sql, list(thread_ids)
    at = connection.ops.adapt_datetimefield_value(facts_at)
    # "Active" as GuardianLink.objects.active() and Restriction.objects.active(at=) say it.
    return sql, ["active", at, at, *thread_ids]


@functools.cache
def _sql(vendor: str, count: int, *, with_facts: bool) -> str:
    return _select(
        vendor, threads=", ".join(["%s"] * count), active="%s", at="%s", with_facts=with_facts
    )


def _select(vendor: str, *, threads: str, active: str, at: str, with_facts: bool) -> str:
    cols = _columns_for(vendor)
    user, thread = cols["user"], cols["thread"]
    quote = connection.ops.quote_name
    user_opts = user.model._meta
    select = [f"p.thread_id, p.user_id, p.added_by_id,{_RELATIONS}", thread.sql(), user.sql()]
    joins = [
        "JOIN messaging_thread t ON t.id = p.thread_id",
        f"JOIN {quote(user_opts.db_table)} u ON {user.column('id')} = p.user_id",
    ]
    order = ["p.thread_id", "p.joined_at", "p.id"]
    if with_facts:
        settings, link, restriction = cols["settings"], cols["link"], cols["restriction"]
        select += [settings.sql(), link.sql(), restriction.sql()]
        r = restriction.column
        joins += [
            f"LEFT JOIN {quote(settings.model._meta.db_table)} s "
            f"ON {settings.column('user')} = {user.column('id')}",
            f"LEFT JOIN {quote(link.model._meta.db_table)} g "
            f"ON {link.column('teen')} = {user.column('id')} AND {link.column('status')} = {active}",
            f"LEFT JOIN {quote(restriction.model._meta.db_table)} r "
            f"ON {r('user')} = {user.column('id')} AND {r('starts_at')} <= {at} "
            f"AND ({r('ends_at')} IS NULL OR {r('ends_at')} > {at}) AND {r('lifted_at')} IS NULL",
        ]
        order += [link.column("id"), restriction.column("id")]
    return (
        f"SELECT {', '.join(select)}\nFROM messaging_threadparticipant p\n"
        + "\n".join(joins)
        + f"\nWHERE p.thread_id IN ({threads})"
        + f"\nORDER BY {', '.join(order)}"
    )


SEND_SNAPSHOT_FUNCTION = "messaging_send_snapshot"


def function_sql() -> str:
    """The send's read as a PL/pgSQL function of (thread id, moment), PostgreSQL only.

    Planning the read costs PostgreSQL several times what running it does, and without prepared
    statements (Django's default) a plain query is planned on every send. PL/pgSQL keeps the plan
    of a function's query for the life of the server connection, whatever pooler sits in front,
    so the send is planned once per connection and then only executed. The body is `_select`
    itself, so the rows and their order are exactly those of the portable query (the SQLite demo
    still runs that one). Frozen in a migration (`SEND_SNAPSHOT_SQL`); the drift test
    (tests/messaging/test_snapshot.py) fails when the models make this render other SQL.
    """
    cols = _columns_for("postgresql")
    types = ["bigint", "bigint", "bigint", "boolean", "boolean", "boolean"]
    for name in ("thread", "user", "settings", "link", "restriction"):
        types += [f.db_type(connection) for f in cols[name].fields]
    # Output columns named c0, c1, ... so that none can shadow a column the query reads.
    returns = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
    body = _select("postgresql", threads="$1", active="'active'", at="$2", with_facts=True)
    return (
        f"CREATE OR REPLACE FUNCTION {SEND_SNAPSHOT_FUNCTION}(bigint, timestamptz)\n"
        f"RETURNS TABLE ({returns})\nLANGUAGE plpgsql STABLE AS $$\nBEGIN\n"
        f"RETURN QUERY\n{body};\nEND\n$$;"
    )


def _run(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run the query; as a prepared statement when the deployment allows them.

    Planning this query costs PostgreSQL several times what running it does. Django turns
    psycopg's prepared statements off unless `DATABASES[...]["OPTIONS"]["prepare_threshold"]`
    is set, because some connection poolers cannot carry them; when it is set, this query runs on
    a server-side-binding cursor so that psycopg prepares it once per connection. The cursor is
    wrapped by Django as usual, so the query is logged and counted like any other.
    """
    db = connections[DEFAULT_DB_ALIAS]
    options = db.settings_dict.get("OPTIONS") or {}
    if db.vendor == "postgresql" and options.get("prepare_threshold") is not None:
        # body import: only a PostgreSQL deployment loads that backend (it imports psycopg)
        from django.db.backends.postgresql.base import ServerBindingCursor

        db.ensure_connection()
        cursor = db._prepare_cursor(ServerBindingCursor(db.connection))
    else:
        cursor = db.cursor()
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fetch(
    thread_ids: Sequence[int], *, facts_at: dt.datetime | None
) -> tuple[list[ParticipantRow], list[tuple[int, tuple[Any, ...]]]]:
    ids = [int(i) for i in thread_ids]
    if not ids:
        return [], []
    sql, params = _query(ids, facts_at=facts_at)
    fetched = _run(sql, params)
    cols = _columns()
    thread_cols, user_cols = cols["thread"], cols["user"]
    threads: dict[int, Thread] = {}
    users: dict[int, User] = {}
    rows: list[ParticipantRow] = []
    rest: list[tuple[int, tuple[Any, ...]]] = []  # (user id, the fact columns of the line)
    seen: set[tuple[int, int]] = set()
    for raw in fetched:
        thread_id, user_id, added_by_id, follows, followed, blocked = raw[:6]
        i = 6 + len(thread_cols)
        j = i + len(user_cols)
        rest.append((user_id, raw[j:]))
        if (thread_id, user_id) in seen:
            continue  # another guardian link or restriction of the same person
        seen.add((thread_id, user_id))
        if thread_id not in threads:
            threads[thread_id] = thread_cols.instance(raw[6:i])  # type: ignore[assignment]
        if user_id not in users:
            users[user_id] = user_cols.instance(raw[i:j])  # type: ignore[assignment]
        rows.append(
            ParticipantRow(
                thread=threads[thread_id],
                user=users[user_id],
                user_id=user_id,
                added_by_id=added_by_id,
                follows_adder=bool(follows),
                followed_by_adder=bool(followed),
                blocked_in_thread=bool(blocked),
            )
        )
    return rows, rest


def participant_rows(thread_ids: Sequence[int]) -> list[ParticipantRow]:
    """Participants of the threads in join order, with user, thread and relations: one query."""
    rows, _ = _fetch(thread_ids, facts_at=None)
    return rows


def send_snapshot(
    thread_id: int, *, at: dt.datetime
) -> tuple[list[ParticipantRow], dict[int, rules.capabilities.UserFacts]]:
    """One thread's participant rows and every participant's policy facts at `at`: one query.

    The facts equal `accounts.facts.facts_for(users, at=at, ...)` (see the module docstring).
    """
    rows, rest = _fetch([thread_id], facts_at=at)
    if not rows:
        return [], {}
    cols = _columns()
    settings_cols, link_cols, restriction_cols = cols["settings"], cols["link"], cols["restriction"]
    a, b = len(settings_cols), len(settings_cols) + len(link_cols)
    settings: dict[int, rules.safety_settings.SafetySettings] = {}
    links: dict[int, dict[int, Any]] = {}
    restrictions: dict[int, dict[int, tuple[str, str]]] = {}
    for user_id, raw in rest:
        s, g, r = raw[:a], raw[a:b], raw[b:]
        if s[0] is not None and user_id not in settings:
            # The policy values straight from the columns, by name, as
            # `SafetySettings.as_policy` hands them over, without building a model instance for
            # each participant on every send. (`Columns` keeps the model's field order, not
            # SETTING_NAMES', so the values are matched by name, never by position.)
            loaded = dict(zip(settings_cols.attnames, settings_cols.values(s), strict=True))
            settings[user_id] = rules.safety_settings.SafetySettings(
                **{name: loaded[name] for name in rules.safety_settings.SETTING_NAMES}
            )
        if g[0] is not None:
            links.setdefault(user_id, {}).setdefault(g[0], link_cols.instance(g))
        if r[0] is not None:
            kind, feature = restriction_cols.values(r)[1:]
            restrictions.setdefault(user_id, {})[r[0]] = (kind, feature)
    facts: dict[int, rules.capabilities.UserFacts] = {}
    for row in rows:
        user = row.user
        if user.birthdate is None or user.pk in facts:
            continue  # staff have no age facts (facts_for leaves them out too)
        found = restrictions.get(user.pk, {}).values()
        active = None
        if found:
            active = ActiveRestrictions(
                features=frozenset(
                    rules.vocabulary.Feature(f) for kind, f in found if kind != "suspension"
                ),
                suspended=any(kind == "suspension" for kind, _ in found),
            )
        facts[user.pk] = assemble(
            user,
            settings=settings.get(user.pk),
            links=links.get(user.pk, {}).values(),
            restrictions=active,
        )
    return rows, facts
