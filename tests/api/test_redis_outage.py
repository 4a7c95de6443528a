"""Issue 7: with Redis unreachable, API writes keep working; only throttling is skipped (logged)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache.backends.redis import RedisCache

from accounts.models import User
from safety_portal.core.api.throttling import ClientRateThrottle
from tests.factories.accounts import birthdate_for_age

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"


@pytest.fixture
def dead_throttle_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttle's cache points at a port where no Redis listens (connection refused)."""
    dead = RedisCache(
        "redis://127.0.0.1:1/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )
    monkeypatch.setattr(ClientRateThrottle, "cache", dead)


def test_a_sign_up_succeeds_while_the_throttle_store_is_down(
    make_caller, dead_throttle_store, caplog
):
    caller = make_caller("users:write", throttle_rate="1/min")
    body = {
        "external_id": "outage-1",
        "username": "outage_one",
        "birthdate": birthdate_for_age(30).isoformat(),
        "country": "GB",
    }
    with caplog.at_level(logging.WARNING, logger="safety_portal.core.api.throttling"):
        first = caller.post(USERS, body)
        second = caller.post(USERS, {**body, "external_id": "outage-2", "username": "outage_two"})
    assert first.status_code == 201, first.content
    # The 1/min rate would refuse the second request; with the store down it is let through.
    assert second.status_code == 201, second.content
    assert User.objects.filter(external_id__startswith="outage-").count() == 2
    assert "throttle store unreachable" in caplog.text


def test_a_window_counter_that_expires_mid_count_opens_a_new_window() -> None:
    """The local-memory path (embedded demo): add() finds the key, incr() no longer does."""
    from django.core.cache.backends.locmem import LocMemCache

    class ExpiresBetweenCalls(LocMemCache):
        def add(self, *args: object, **kwargs: object) -> bool:
            return False  # the key existed a moment ago

    throttle = ClientRateThrottle()
    throttle.cache = ExpiresBetweenCalls("expiring", {})
    throttle.duration = 60
    assert throttle._count("window-key") == 1
    assert throttle.cache.get("window-key") == 1


def test_with_redis_configured_a_window_is_counted_in_one_atomic_round_trip(make_caller) -> None:
    """The default cache is a proxy; the throttle must see the Redis backend behind it and count
    with one MULTI/EXEC pipeline, never the two-call add()/incr() fallback."""
    import redis as redis_lib
    from django.core.cache.backends.redis import RedisCacheClient

    pipelines: list[object] = []
    fallback: list[object] = []
    execute = redis_lib.client.Pipeline.execute

    def spy_execute(self: object, *args: object, **kwargs: object) -> object:
        pipelines.append(self)
        return execute(self, *args, **kwargs)

    def spy_incr(self: object, *args: object, **kwargs: object) -> object:
        fallback.append(args)
        raise AssertionError("the throttle fell back to add()/incr()")

    caller = make_caller("users:read", throttle_rate="100/min")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(redis_lib.client.Pipeline, "execute", spy_execute)
        mp.setattr(RedisCacheClient, "incr", spy_incr)
        assert caller.get(USERS).status_code == 200
    assert pipelines
    assert not fallback
