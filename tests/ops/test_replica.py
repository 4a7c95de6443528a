"""The read replica is real: a primary and a streaming replica of our own, built in a temporary
directory with PostgreSQL's tools (initdb, pg_basebackup -R, pg_ctl) on free ports, never touching
the machine's server. Heavy reads go to the replica, fall back to the primary when it lags or is
gone, and a write never goes there (issue 14.4)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.postgresql.base import DatabaseWrapper

from accounts.models import User
from safety_portal.core import replica
from tests.factories.accounts import AppUserFactory
from tests.jobs.conftest import free_port, wait_until

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = [
    pytest.mark.skipif(not BINARIES, reason="PostgreSQL's server tools are not installed"),
    pytest.mark.django_db(transaction=True),
]


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(*command: str) -> None:
    done = subprocess.run(_as_postgres(list(command)), capture_output=True, text=True, check=False)
    if done.returncode:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class Cluster:
    primary_port: int
    replica_port: int

    def primary(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.primary_port, user="postgres", dbname="postgres",
            autocommit=True,
        )  # fmt: skip

    def replica(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.replica_port, user="postgres", dbname="postgres",
            autocommit=True,
        )  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bindir = Path(BINARIES[-1])
    root = Path(tempfile.mkdtemp(prefix="sp-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary, standby = root / "primary", root / "replica"
    ports = Cluster(free_port(), free_port())
    _run(str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "--no-sync")
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {ports.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{root}'\nwal_level = replica\nmax_wal_senders = 4\n"
            "fsync = off\n"
        )
    started = []
    try:
        _run(
            str(bindir / "pg_ctl"),
            "-D",
            str(primary),
            "-l",
            str(root / "primary.log"),
            "-w",
            "start",
        )
        started.append(primary)
        _run(
            str(bindir / "pg_basebackup"), "-D", str(standby), "-R", "-h", "127.0.0.1",
            "-p", str(ports.primary_port), "-U", "postgres", "-X", "stream",
        )  # fmt: skip
        with (standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {ports.replica_port}\n")
        _run(
            str(bindir / "pg_ctl"),
            "-D",
            str(standby),
            "-l",
            str(root / "replica.log"),
            "-w",
            "start",
        )
        started.append(standby)
        with ports.primary() as conn:
            conn.execute("CREATE TABLE replicated (n int)")
        # The table's creation streams like any write: wait for it, or the first test can ask
        # the replica about a table it has not replayed yet (seen once in CI).
        wait_until(
            lambda: _replica_has_table(ports), timeout=30, what="the table to reach the replica"
        )
        yield ports
    finally:
        for data in reversed(started):
            _run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _replica_has_table(ports: Cluster) -> bool:
    with ports.replica() as conn:
        return conn.execute("SELECT to_regclass('replicated')").fetchone()[0] is not None


@pytest.fixture
def routed_to(cluster: Cluster, settings, transactional_db: None) -> Iterator[Cluster]:
    """The portal configured as with DATABASE_REPLICA_URL set: the replica alias and the router.
    Added after the test database is set up (`transactional_db`)."""
    config = {
        **connections[DEFAULT_DB_ALIAS].settings_dict,
        "HOST": "127.0.0.1",
        "PORT": str(cluster.replica_port),
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "CONN_MAX_AGE": 0,
    }
    # Registered as a connection, not in settings.DATABASES: Django's test guard lets such
    # connections through, and the test database set-up and flush never touch the replica.
    connections[replica.REPLICA] = DatabaseWrapper(config, alias=replica.REPLICA)
    settings.DATABASE_REPLICA_URL = f"postgres://postgres@127.0.0.1:{cluster.replica_port}/postgres"
    settings.DATABASE_ROUTERS = ["safety_portal.core.replica.ReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 1.0
    settings.REPLICA_LAG_CHECK_SECONDS = 0.0
    replica.forget_lag()
    try:
        yield cluster
    finally:
        connections[replica.REPLICA].close()
        del connections[replica.REPLICA]
        replica.forget_lag()


def _replica_sees(n: int) -> bool:
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM replicated WHERE n = %s", [n])
        return cursor.fetchone()[0] == 1


def test_heavy_reads_go_to_a_replica_that_streams_the_primarys_writes(routed_to: Cluster) -> None:
    with routed_to.primary() as conn:
        conn.execute("INSERT INTO replicated VALUES (1)")
    with replica.heavy_reads() as alias:
        assert alias == replica.REPLICA
        assert User.objects.all().db == replica.REPLICA
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            assert cursor.fetchone()[0] is True  # a standby, not the primary
        wait_until(lambda: _replica_sees(1), timeout=10, what="the row to stream to the replica")
    assert User.objects.all().db == DEFAULT_DB_ALIAS  # outside the block: the primary


def test_a_lagging_replica_sends_heavy_reads_back_to_the_primary_until_it_catches_up(
    routed_to: Cluster,
) -> None:
    with routed_to.replica() as standby, routed_to.primary() as primary:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            primary.execute("INSERT INTO replicated VALUES (2)")
            time.sleep(1.5)
            primary.execute("INSERT INTO replicated VALUES (3)")  # WAL the replica has not replayed
            time.sleep(0.5)
            replica.forget_lag()
            lag = replica.replica_lag()
            assert lag is not None
            assert lag > 1.0
            with replica.heavy_reads() as alias:
                assert alias == DEFAULT_DB_ALIAS
                assert User.objects.all().db == DEFAULT_DB_ALIAS
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    wait_until(lambda: _replica_sees(3), timeout=10, what="the replica to catch up")
    replica.forget_lag()
    with replica.heavy_reads() as alias:
        assert alias == replica.REPLICA


def test_a_write_never_goes_to_the_replica_nor_a_read_after_a_write_in_a_transaction(
    routed_to: Cluster,
) -> None:
    user = AppUserFactory(age=30, country="GB")
    with replica.heavy_reads() as alias:
        assert alias == replica.REPLICA
        assert router.db_for_write(User) == DEFAULT_DB_ALIAS
        # A write inside a heavy-read block goes to the primary (the replica has not even the
        # table: this test's data lives in the test database on the primary's server).
        assert User.objects.filter(pk=user.pk).update(country="DE") == 1
        assert User.objects.using(DEFAULT_DB_ALIAS).get(pk=user.pk).country == "DE"
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(country="FR")
            assert User.objects.all().db == DEFAULT_DB_ALIAS  # may read what it just wrote
            assert User.objects.get(pk=user.pk).country == "FR"
    assert not router.allow_migrate(replica.REPLICA, "accounts")
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "accounts")


def test_an_unreachable_replica_counts_as_lagging(routed_to: Cluster) -> None:
    config = {**connections[replica.REPLICA].settings_dict, "PORT": str(free_port())}
    connections[replica.REPLICA].close()
    connections[replica.REPLICA] = DatabaseWrapper(config, alias=replica.REPLICA)
    replica.forget_lag()
    assert replica.replica_lag() is None
    with replica.heavy_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
