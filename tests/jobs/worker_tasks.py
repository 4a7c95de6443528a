"""Tasks that exist for the job tests only (workers load them with --include).

They count their runs in Redis so that a test can prove "exactly once" across processes.
"""

from __future__ import annotations

import redis
from celery import shared_task
from django.db import OperationalError


@shared_task(name="tests.jobs.count_run")
def count_run(key: str, redis_url: str) -> int:
    """Idempotency is not the point here: each run adds one, so duplicates show."""
    return int(redis.Redis.from_url(redis_url).incr(key))


@shared_task(name="tests.jobs.fail_first_attempt")
def fail_first_attempt(key: str, redis_url: str) -> str:
    """Raise a transient database error on the first attempt; succeed on the next one."""
    client = redis.Redis.from_url(redis_url)
    if client.incr(f"{key}:attempts") == 1:
        raise OperationalError("simulated: server closed the connection unexpectedly")
    client.set(f"{key}:done", 1)
    return "done"


@shared_task(name="tests.jobs.fail_with_a_bug")
def fail_with_a_bug(key: str, redis_url: str) -> None:
    """A programming error is not transient: it must fail at once, without retries."""
    redis.Redis.from_url(redis_url).incr(f"{key}:attempts")
    raise ValueError("simulated bug")
