"""Messaging on PostgreSQL: the price of the guarded send, and the first page of `visible_to`.

Issue 3 asks for two figures:

1. **send vs bare create.** Five rounds of 2,000 messages through `Message.objects.send` (the door:
   one query for the participants with their follows, blocks and policy facts,
   `messaging/snapshot.py`, then the INSERT) against the same rows written by a bare ORM INSERT
   (`models.Model.save(Message(...), force_insert=True)`: what `Message.objects.create` does, minus
   the Python guard that refuses it, so that the baseline can run at all). Both pay the PostgreSQL
   insert trigger. The two run in alternating blocks of 500 so that a growing table or a busy
   neighbour weighs on both alike; each round gives one ratio, printed as the median of the rounds
   with their spread; target <= 2.0x. Measured twice: with Django's default (no prepared
   statements; the send's read is a PL/pgSQL function whose plan the server keeps, D24) and with
   `DATABASES["default"]["OPTIONS"]["prepare_threshold"]` set, a deployment choice that depends on
   the connection pooler, printed beside it. The sends are dated 540 days back so that they never land in
   the visible_to data set's first pages. The queries of one send are counted as well.
2. **visible_to(user), first page.** A user in 1,000 direct threads holding 100,000 messages (2 %
   hidden by moderation), among 2,000 other threads with 200,000 messages interleaved in time over
   the same year. The first page (50 messages) must be one query that uses an index; the plan is
   printed.
3. **A thread's first page** (`in_thread(thread).visible()`, what the API's message list reads):
   the busiest of the viewer's threads, 50 messages, one query on `message_thread_recent`. With
   messages partitioned by month (D33) it reads every month's index of the thread; the figure
   watches that it stays an index read of a few milliseconds.
4. **The INSERT into the partitioned table vs the same INSERT into a plain table** (when messages
   are partitioned, D33): the statement the send runs, with the same rows, into the month's
   partition through the parent and into `bench_messaging_plain`, a plain copy of the table with
   the same columns, indexes, foreign keys and insert guard, seeded with that month's rows, in
   alternating blocks. What partitioning itself costs a send (routing the row to its month).

Data sets are built once and kept (`bench_dataset`): the send pairs through the managers (they
must be allowed pairs), the visible_to data with set-based SQL. Options: `--sends N`
(per round), `--send-rounds N`, `--repeat N` (visible_to samples), `--rebuild`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import time_machine
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.test.utils import override_settings

from accounts.models import User
from bench.harness import (
    Figure,
    captured_queries,
    dataset_ready,
    explain,
    mark_dataset,
    median_ms,
    partitions_for_the_last,
    percentile_ms,
    vacuum_analyze,
)
from messaging.models import Connection, Message, Thread
from messaging.partitioning import MESSAGES
from safety_portal import rules
from safety_portal.core import clock, combined_writes, partitions
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.partitions import Month

ACTOR = SystemActor("bench.messaging")
UNUSABLE = make_password(None)  # bench users never log in
SEND_PREFIX = "bench_msg_send_"
VIEW_PREFIX = "bench_msg_view_"
PAIRS = 50
BLOCK = 500
PAGE = 50
VIEW_THREADS = 1_000
VIEW_MESSAGES = 100_000
NOISE_THREADS = 2_000
NOISE_MESSAGES = 200_000


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_messaging", add_help=False)
    parser.add_argument("--sends", type=int, default=2_000, help="sends per round")
    parser.add_argument("--send-rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--rebuild", action="store_true")
    args, _ = parser.parse_known_args(argv)

    # The data set spans a year and the sends are dated 540 days back: 19 months of partitions.
    partitions_for_the_last(MESSAGES, 19)
    threads = ensure_send_pairs(rebuild=args.rebuild)
    viewer = ensure_view_dataset(rebuild=args.rebuild)
    # Earlier runs' sends sit in last year's partition: statistics first, as autovacuum keeps them.
    vacuum_analyze(Message._meta.db_table)
    figures: list[Figure] = []
    # `make bench` runs with DEBUG=true; production does not, and a debug cursor logs every
    # query, which would add its own cost to both sides of the ratio.
    with override_settings(DEBUG=False):
        figures += measure_visible_to(viewer, repeat=args.repeat)
        figures += measure_thread_page(viewer, repeat=args.repeat)
        # The sends are dated a year and a half back, before the visible_to data set, so that
        # running the bench again does not bury the viewer's first page under bench sends.
        with time_machine.travel(clock.now() - dt.timedelta(days=540), tick=True):
            plain = measure_send(threads, sends=args.sends, rounds=args.send_rounds)
            with prepared_statements():
                prepared = measure_send(threads, sends=args.sends, rounds=args.send_rounds)
            figures += measure_routing(threads, sends=args.sends, rounds=args.send_rounds)
        figures += send_figures(plain, prepared)
    return figures


@contextlib.contextmanager
def prepared_statements() -> Iterator[None]:
    """Run with `DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5` (a deployment choice:
    Django leaves prepared statements off for the sake of connection poolers)."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    connection.close()
    options["prepare_threshold"] = 5
    try:
        yield
    finally:
        del options["prepare_threshold"]
        connection.close()


# --------------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------------


def _adult_birthdate(rng: random.Random) -> dt.date:
    # 25 or older: still adults on the earlier date the sends are measured at.
    return rules.ages.latest_birthdate_for_age(rng.randint(25, 60), clock.today()) - dt.timedelta(
        days=rng.randint(1, 360)
    )


def ensure_send_pairs(*, rebuild: bool) -> list[tuple[Thread, User, User]]:
    """Fifty pairs of adult friends, each with a direct thread, made through the doors."""
    name = "messaging_send_pairs_v1"
    if rebuild or not dataset_ready(name):
        rng = random.Random(3)
        print(f"building {PAIRS} send pairs through the managers ...", file=sys.stderr)
        with transaction.atomic():
            for i in range(PAIRS):
                a, b = (_send_user(f"{SEND_PREFIX}{i:03d}{side}", rng) for side in "ab")
                for follower, followee in ((a, b), (b, a)):
                    Connection.objects.follow(follower=follower, followee=followee, actor=ACTOR)
                if not Thread.objects.direct_between(a, b).exists():
                    Thread.objects.start(creator=a, participants=[b], actor=ACTOR)
            mark_dataset(name)
    out = []
    for i in range(PAIRS):
        a = User.objects.get(username=f"{SEND_PREFIX}{i:03d}a")
        b = User.objects.get(username=f"{SEND_PREFIX}{i:03d}b")
        out.append((Thread.objects.direct_between(a, b).get(), a, b))
    return out


def _send_user(username: str, rng: random.Random) -> User:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return User.objects.create_app_user(
        actor=ACTOR, username=username, birthdate=_adult_birthdate(rng), country="GB"
    )


def ensure_view_dataset(*, rebuild: bool) -> User:
    """The viewer's 1,000 threads and 100,000 messages, and the noise around them (set-based SQL)."""
    name = "messaging_visible_to_v1"
    viewer_name = f"{VIEW_PREFIX}viewer"
    if not rebuild and dataset_ready(name):
        return User.objects.get(username=viewer_name)
    if User.objects.filter(username=viewer_name).exists():
        raise SystemExit(
            "bench_messaging: the visible_to data set exists in part; drop the bench database "
            "to rebuild it (messaging rows are never deleted, by design)."
        )
    print("building the visible_to data set (300,000 messages) ...", file=sys.stderr)
    rng = random.Random(7)
    now = clock.now()
    # Users through the ORM (whatever columns accounts has today), threads and messages in SQL.
    users = [
        User(username=viewer_name, birthdate=_adult_birthdate(rng), country="GB", password=UNUSABLE)
    ]
    users += [
        User(
            username=f"{VIEW_PREFIX}{i:05d}",
            birthdate=_adult_birthdate(rng),
            country="GB",
            password=UNUSABLE,
        )
        for i in range(VIEW_THREADS + 2 * NOISE_THREADS)
    ]
    with transaction.atomic():
        User.objects.bulk_create(users, batch_size=2_000)
        viewer = User.objects.get(username=viewer_name)
        others = list(
            User.objects.filter(username__startswith=VIEW_PREFIX)
            .exclude(pk=viewer.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        partners, noise = others[:VIEW_THREADS], others[VIEW_THREADS:]
        pairs = [(viewer.pk, p) for p in partners]
        pairs += [(noise[2 * i], noise[2 * i + 1]) for i in range(NOISE_THREADS)]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO messaging_thread
                    (kind, creator_id, title, created_at, direct_low_id, direct_high_id, locked,
                     locked_reason, locked_source, locked_detail, locked_at)
                SELECT 'direct', p.a, '', %(start)s, LEAST(p.a, p.b), GREATEST(p.a, p.b), false,
                       '', '', '', NULL
                FROM unnest(%(a)s::bigint[], %(b)s::bigint[]) AS p(a, b)
                """,
                {
                    "start": now - dt.timedelta(days=366),
                    "a": [a for a, _ in pairs],
                    "b": [b for _, b in pairs],
                },
            )
            cursor.execute(
                """
                INSERT INTO messaging_threadparticipant (thread_id, user_id, added_by_id, joined_at)
                SELECT t.id, u.user_id, t.creator_id, t.created_at
                FROM messaging_thread t
                CROSS JOIN LATERAL (VALUES (t.direct_low_id), (t.direct_high_id)) AS u(user_id)
                WHERE t.direct_low_id = ANY(%(users)s::bigint[])
                """,
                {"users": [viewer.pk, *noise[0::2]]},
            )
            # Messages: each thread gets its share, spread over the last year, the viewer's
            # threads and the noise interleaved in time; 2 % hidden by moderation.
            for owner_ids, total in (([viewer.pk], VIEW_MESSAGES), (noise[0::2], NOISE_MESSAGES)):
                cursor.execute(
                    """
                    INSERT INTO messaging_message
                        (thread_id, sender_id, body, created_at, moderation_state,
                         moderation_changed_at, sent_via)
                    SELECT t.id,
                           CASE WHEN g %% 2 = 0 THEN t.direct_low_id ELSE t.direct_high_id END,
                           'bench message ' || g,
                           %(end)s - (random() * interval '365 days'),
                           CASE WHEN random() < 0.02 THEN 'hidden' ELSE 'visible' END,
                           NULL,
                           'system:bench.messaging'
                    FROM messaging_thread t
                    CROSS JOIN generate_series(1, %(per_thread)s) AS g
                    WHERE t.creator_id = ANY(%(owners)s::bigint[])
                    """,
                    {
                        "end": now,
                        "per_thread": total
                        // (VIEW_THREADS if len(owner_ids) == 1 else NOISE_THREADS),
                        "owners": owner_ids,
                    },
                )
        mark_dataset(name)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_thread, messaging_threadparticipant, messaging_message")
    return viewer


# --------------------------------------------------------------------------------------------------
# 1. send vs bare create
# --------------------------------------------------------------------------------------------------


@dataclass
class SendRun:
    """Rounds of alternating blocks: each round's total send time over its bare-INSERT time."""

    ratios: list[float]
    door_samples: list[float]
    bare_samples: list[float]
    queries: list[str]
    sends: int

    def ratio_figure(self, label: str, *, note: str) -> Figure:
        rounds = ", ".join(f"{r:.2f}" for r in self.ratios)
        return Figure(
            "messaging",
            f"send / bare INSERT{label}, median of {len(self.ratios)} rounds of {self.sends:,}",
            statistics.median(self.ratios),
            "x",
            target="≤ 2.00x",
            note=f"spread {min(self.ratios):.2f}-{max(self.ratios):.2f}x (rounds {rounds}){note}",
        )

    def per_send_figure(self, label: str) -> Figure:
        door, bare = self.door_samples, self.bare_samples
        return Figure(
            "messaging",
            f"one send, median{label}",
            median_ms(door),
            "ms",
            baseline=median_ms(bare),
            note=f"p95 {percentile_ms(door, 95):.2f} ms vs {percentile_ms(bare, 95):.2f} ms",
        )


def measure_send(threads: list[tuple[Thread, User, User]], *, sends: int, rounds: int) -> SendRun:
    rows = []
    for n in range(sends):
        thread, a, b = threads[n % len(threads)]
        sender = a if (n // len(threads)) % 2 == 0 else b
        rows.append((thread, sender, f"bench message {n}: see you at six?"))

    def bare(chunk: list[tuple[Thread, User, str]]) -> list[float]:
        samples = []
        for thread, sender, body in chunk:
            start = time.perf_counter()
            models.Model.save(
                Message(
                    thread=thread,
                    sender=sender,
                    body=body,
                    created_at=clock.now(),
                    sent_via="system:bench.messaging",
                ),
                force_insert=True,
            )
            samples.append(time.perf_counter() - start)
        return samples

    def door(chunk: list[tuple[Thread, User, str]]) -> list[float]:
        samples = []
        for thread, sender, body in chunk:
            start = time.perf_counter()
            Message.objects.send(sender=sender, thread=thread, body=body, actor=ACTOR)
            samples.append(time.perf_counter() - start)
        return samples

    # Warm both paths (connections, caches, plans), then alternate blocks within each round, so
    # that a growing table or a busy neighbour weighs on both alike; a round is one ratio.
    bare(rows[:100])
    door(rows[:100])
    run = SendRun([], [], [], [], sends)
    for _ in range(rounds):
        bare_round: list[float] = []
        door_round: list[float] = []
        for offset in range(0, len(rows), BLOCK):
            chunk = rows[offset : offset + BLOCK]
            bare_round += bare(chunk)
            door_round += door(chunk)
        run.ratios.append(sum(door_round) / sum(bare_round))
        run.bare_samples += bare_round
        run.door_samples += door_round

    thread, sender, _body = rows[0]
    with captured_queries() as captured:
        Message.objects.send(sender=sender, thread=thread, body="counted", actor=ACTOR)
    run.queries = [q["sql"] or "(server-side bound statement)" for q in captured.captured_queries]
    return run


def send_figures(plain: SendRun, prepared: SendRun) -> list[Figure]:
    """The default-settings ratio (the target) with the prepared-statements one beside it."""
    for label, run in (("", plain), (" (prepared statements on)", prepared)):
        print(f"\nqueries of one send{label}:", file=sys.stderr)
        for sql in run.queries:
            print(f"  {sql[:160]}", file=sys.stderr)
    on = " (prepared statements on)"
    beside = f"; prepared statements on: {statistics.median(prepared.ratios):.2f}x"
    return [
        plain.ratio_figure("", note=beside + "; baseline: bare ORM INSERT of the same rows"),
        prepared.ratio_figure(on, note=""),
        plain.per_send_figure(""),
        prepared.per_send_figure(on),
        Figure(
            "messaging",
            "queries per send",
            len(plain.queries),
            "queries",
            target="≤ 2",
            note="any thread size, any history (tests/messaging/test_send_cost.py)",
        ),
    ]


# --------------------------------------------------------------------------------------------------
# 2. visible_to(user), first page
# --------------------------------------------------------------------------------------------------


def measure_visible_to(viewer: User, *, repeat: int) -> list[Figure]:
    qs = Message.objects.visible_to(viewer)[:PAGE]
    with captured_queries() as captured:
        page = list(qs)
    assert len(page) == PAGE, "the viewer should have a full first page"
    sql, params = qs.query.sql_with_params()
    plan = explain(sql, params)
    print(
        f"\nvisible_to(viewer)[:{PAGE}] — {len(captured)} query:\n{sql % tuple(map(repr, params))}",
        file=sys.stderr,
    )
    print(f"\nplan:\n{plan}\n", file=sys.stderr)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        list(Message.objects.visible_to(viewer)[:PAGE])
        samples.append(time.perf_counter() - start)
    total = Message.objects.filter(thread__participants__user=viewer).count()
    threads = Thread.objects.for_user(viewer).count()
    index_names = sorted(set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)))
    return [
        Figure(
            "messaging",
            f"visible_to first page ({threads:,} threads, {total:,} messages)",
            median_ms(samples),
            "ms",
            target="1 query, uses an index",
            note=f"{len(captured)} query; indexes: {', '.join(index_names) or 'NONE'}",
        )
    ]


# --------------------------------------------------------------------------------------------------
# 3. a thread's first page
# --------------------------------------------------------------------------------------------------


def measure_thread_page(viewer: User, *, repeat: int) -> list[Figure]:
    thread = (
        Thread.objects.for_user(viewer)
        .annotate(n=models.Count("messages"))
        .order_by("-n", "id")
        .first()
    )
    assert thread is not None, "the viewer should have threads"
    qs = Message.objects.in_thread(thread).visible()[:PAGE]
    sql, params = qs.query.sql_with_params()
    plan = explain(sql, params)
    print(f"\nin_thread(thread).visible()[:{PAGE}] plan:\n{plan}\n", file=sys.stderr)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        list(Message.objects.in_thread(thread).visible()[:PAGE])
        samples.append(time.perf_counter() - start)
    index_names = sorted(set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)))
    shown = ", ".join(index_names[:3]) + (" ..." if len(index_names) > 3 else "")
    return [
        Figure(
            "messaging",
            f"thread first page ({thread.n:,} messages in the thread)",  # type: ignore[attr-defined]
            median_ms(samples),
            "ms",
            target="1 query, uses an index",
            note=f"p95 {percentile_ms(samples, 95):.2f} ms; {len(index_names)} indexes: {shown or 'NONE'}",
        )
    ]


# --------------------------------------------------------------------------------------------------
# 4. INSERT into the partitioned table vs into a plain table
# --------------------------------------------------------------------------------------------------

PLAIN_TABLE = "bench_messaging_plain"


def _plain_copy_of_the_month(month_start: dt.datetime) -> None:
    """A plain table like messaging_message, holding the rows of the month the sends land in (so
    that its indexes are as deep as that partition's), with the same foreign keys and guard."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        cursor.execute(
            f"CREATE TABLE {PLAIN_TABLE} (LIKE messaging_message INCLUDING DEFAULTS"
            " INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING IDENTITY)"
        )
        cursor.execute(
            f"INSERT INTO {PLAIN_TABLE} OVERRIDING SYSTEM VALUE SELECT * FROM messaging_message"
            " WHERE created_at >= %s AND created_at < %s",
            [month_start, Month.of(month_start).end],
        )
        cursor.execute(
            f"ALTER TABLE {PLAIN_TABLE} ADD FOREIGN KEY (thread_id) REFERENCES messaging_thread(id)"
            " DEFERRABLE INITIALLY DEFERRED, ADD FOREIGN KEY (sender_id) REFERENCES"
            " accounts_user(id) DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute(
            f"CREATE TRIGGER bench_insert_guard BEFORE INSERT ON {PLAIN_TABLE}"
            " FOR EACH ROW EXECUTE FUNCTION messaging_guard_message_insert()"
        )
        cursor.execute(f"ANALYZE {PLAIN_TABLE}")


def measure_routing(
    threads: list[tuple[Thread, User, User]], *, sends: int, rounds: int
) -> list[Figure]:
    if not partitions.is_partitioned(Message._meta.db_table):
        return []
    _plain_copy_of_the_month(Month.of(clock.now()).start)
    sql, fields, _ = combined_writes.compiled_insert(Message, connection.vendor)
    plain_sql = sql.replace('"messaging_message"', f'"{PLAIN_TABLE}"')
    assert plain_sql != sql, "the INSERT names the message table"
    rows = []
    for n in range(sends):
        thread, a, b = threads[n % len(threads)]
        sender = a if (n // len(threads)) % 2 == 0 else b
        rows.append((thread, sender, f"bench message {n}: routed"))

    def insert(statement: str, chunk: list[tuple[Thread, User, str]]) -> list[float]:
        samples = []
        with connection.cursor() as cursor:
            for thread, sender, body in chunk:
                message = Message(
                    thread=thread,
                    sender=sender,
                    body=body,
                    created_at=clock.now(),
                    sent_via="system:bench.messaging",
                )
                params = [f.get_db_prep_save(f.pre_save(message, True), connection) for f in fields]
                start = time.perf_counter()
                cursor.execute(statement, params)
                cursor.fetchone()
                samples.append(time.perf_counter() - start)
        return samples

    insert(sql, rows[:100])
    insert(plain_sql, rows[:100])
    ratios: list[float] = []
    routed_all: list[float] = []
    plain_all: list[float] = []
    for _ in range(rounds):
        routed: list[float] = []
        plain: list[float] = []
        for offset in range(0, len(rows), BLOCK):
            chunk = rows[offset : offset + BLOCK]
            plain += insert(plain_sql, chunk)
            routed += insert(sql, chunk)
        ratios.append(sum(routed) / sum(plain))
        routed_all += routed
        plain_all += plain
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PLAIN_TABLE}")
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    return [
        Figure(
            "messaging",
            f"send's INSERT, partitioned / plain table, median of {rounds} rounds of {sends:,}",
            statistics.median(ratios),
            "x",
            note=f"rounds {spread}; median {median_ms(routed_all):.3f} ms vs"
            f" {median_ms(plain_all):.3f} ms",
        )
    ]
