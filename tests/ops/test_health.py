"""Liveness and readiness: what a load balancer sees when the database, the broker or the audit
chainer fails, and that it never sees anything else."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.chainer import link_committed
from tests.factories.accounts import AppUserFactory

ACTOR = SystemActor("tests.health")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_at_a_closed_port() -> Iterator[int]:
    """Point the default connection at a port nobody listens on, then back."""
    port, real = closed_port(), connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(port)
    try:
        yield port
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real


def test_healthz_answers_without_touching_the_database(client: Client) -> None:
    # No django_db mark: any query here raises, so answering proves none was made.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "up"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_on_a_migrated_database_in_a_few_queries(
    client: Client, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(4):
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "audit_chain"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db(transaction=True)
def test_readyz_turns_unready_when_the_database_is_unreachable_and_ready_when_it_is_back(
    client: Client, database_at_a_closed_port: int
) -> None:
    down = client.get("/readyz")
    assert down.status_code == 503
    database = down.json()["checks"]["database"]
    assert database["ok"] is False
    assert "DATABASE_URL" in database["detail"]
    # Nothing about where the database is (an exception's text would carry host, port, user).
    assert str(database_at_a_closed_port) not in down.content.decode()
    assert "127.0.0.1" not in down.content.decode()

    connection.close()
    connection.settings_dict["PORT"] = "5432"
    back = client.get("/readyz")
    assert back.status_code == 200, back.json()


@pytest.mark.django_db
def test_readyz_is_unready_while_a_migration_of_this_code_is_not_applied(client: Client) -> None:
    MigrationRecorder(connection).record_unapplied("moderation", "0001_initial")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "1 migration not applied" in response.json()["checks"]["database"]["detail"]
    assert "manage.py migrate" in response.json()["checks"]["database"]["detail"]


@pytest.mark.django_db
def test_a_broker_outage_degrades_but_stays_ready_because_the_outbox_holds_the_work(
    client: Client, settings
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is True
    assert broker["detail"].startswith("degraded: unreachable")
    assert "outbox" in broker["detail"]


@pytest.mark.django_db
def test_a_reachable_broker_is_reported_as_such(client: Client) -> None:
    assert client.get("/readyz").json()["checks"]["broker"]["detail"] == "reachable"


@pytest.mark.django_db(transaction=True)
def test_an_audit_tail_older_than_the_lag_limit_is_unready_until_the_chainer_links_it(
    client: Client, settings
) -> None:
    settings.AUDIT_CHAIN_DEFERRED = True
    settings.AUDIT_CHAIN_LAG_ALERT = 60.0
    link_committed()  # start from a linked chain
    with transaction.atomic():
        audit.record(actor=ACTOR, action="tests.health.entry", target_type="t", target_id="1")
    assert client.get("/readyz").status_code == 200  # young: within the limit
    with time_machine.travel(clock.now() + dt.timedelta(minutes=5), tick=False):
        late = client.get("/readyz")
        assert late.status_code == 503
        chain = late.json()["checks"]["audit_chain"]
        assert chain["ok"] is False
        assert "1 entry unlinked" in chain["detail"]
        assert "link_audit_chain" in chain["detail"]
        link_committed()
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_the_probes_need_no_login_and_refuse_writes(client: Client) -> None:
    client.force_login(AppUserFactory(age=30))  # a non-staff session gets no portal page...
    assert client.get("/readyz").status_code == 200  # ...but the probe answers
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
