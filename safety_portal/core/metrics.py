"""Counters and request latency for Prometheus (issue 14.2), shared by every process of the fleet.

Web processes, Celery workers and beat each count what they do, but a scrape reaches one web
process: so counts do not live in process memory. Counts are `HINCRBY`s on Redis hashes (one hash
per metric, one field per label set), and each request's latency adds to its histogram bucket, sum
and count; the `/metrics` view reads the hashes back. Any process on any machine adds to the same
figures. A process sends what it counted once a second, in one pipeline from a daemon thread, so
no claim, decision or request waits on a Redis round trip; a process that dies loses at most that
second. The embedded demo has no
Redis and is one process, so it counts in memory.

Counting is best-effort by design: a Redis outage must not fail a report, a send or a decision
(the same reasoning as the throttle, D12). A failed write is logged and this process stops
writing for PAUSE_AFTER_FAILURE seconds (so no request waits a second-long timeout each time);
the figures are then lower, which the log says.

prometheus-client renders the exposition format (`CounterMetricFamily`, `HistogramMetricFamily`);
only the storage is ours.
"""

from __future__ import annotations

import atexit
import bisect
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

logger = logging.getLogger(__name__)

PREFIX = "safety_portal_"
LATENCY = "http_request_duration_seconds"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class CounterSpec:
    help: str
    labels: tuple[str, ...]


# Every counter the platform keeps: adding one here is the whole registration.
COUNTERS: dict[str, CounterSpec] = {
    "claims": CounterSpec("Cases claimed by moderators, by how they were taken.", ("how",)),
    "decisions": CounterSpec("Moderation decisions taken, by decision type.", ("decision_type",)),
    "celery_tasks": CounterSpec("Celery task runs, by task and outcome.", ("task", "outcome")),
    "throttle_refusals": CounterSpec("API requests refused by the per-client throttle.", ()),
    "policy_refusals": CounterSpec(
        "Actions refused by a minor-protection or platform rule, by reason code.", ("reason",)
    ),
}


class StoreUnavailable(Exception):
    """The shared store could not take a write (Redis down or timing out)."""


class _MemoryStore:
    """The demo's store: one process, so a locked Counter per hash is the whole truth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: dict[str, Counter[str]] = {}

    def add(self, writes: list[tuple[str, str, float]]) -> None:
        with self._lock:
            for key, field, amount in writes:
                self._hashes.setdefault(key, Counter())[field] += amount

    def read(self, key: str) -> dict[str, float]:
        with self._lock:
            return dict(self._hashes.get(key, {}))

    def clear(self) -> None:
        with self._lock:
            self._hashes.clear()


class _RedisStore:
    """The fleet's store. Writes wait in this process for at most FLUSH_EVERY seconds and go to
    Redis together, from a daemon thread, in one pipeline: no counted action (a claim, a request)
    waits on a Redis round trip. A process that dies loses at most that last second of its
    counts; nothing another process needs is kept here."""

    def __init__(self, url: str) -> None:
        # body import: redis is needed only when a broker is configured
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._lock = threading.Lock()
        self._pending: Counter[tuple[str, str]] = Counter()
        self._pid = 0  # the process the pending writes and the flusher thread belong to
        # After a failed send this store takes no writes until then (its own: a store that
        # failed never pauses another).
        self.paused_until = 0.0

    def add(self, writes: list[tuple[str, str, float]]) -> None:
        if self._pid != os.getpid():
            self._adopt_process()
        with self._lock:
            for key, field, amount in writes:
                self._pending[(key, field)] += amount

    def _adopt_process(self) -> None:
        """First write in this process (or after a fork): what a parent had pending is the
        parent's to send, so it is dropped here; start this process's flusher."""
        self._lock = threading.Lock()
        self._pending = Counter()
        self._pid = os.getpid()
        threading.Thread(target=self._flush_forever, name="metrics-flush", daemon=True).start()
        atexit.register(self.flush)

    def _flush_forever(self) -> None:
        pid = self._pid
        while self._pid == pid:
            time.sleep(FLUSH_EVERY)
            _flush_safely(self)

    def flush(self) -> None:
        """Send what this process has pending; StoreUnavailable when Redis refuses it."""
        # body import: redis is needed only when a broker is configured
        import redis

        if self._pid != os.getpid():
            return  # a forked child's copy of its parent's writes
        with self._lock:
            writes, self._pending = self._pending, Counter()
        if not writes:
            return
        pipe = self._client.pipeline(transaction=False)
        for (key, field), amount in writes.items():
            if isinstance(amount, int):
                pipe.hincrby(key, field, amount)
            else:  # sums of seconds
                pipe.hincrbyfloat(key, field, amount)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    def read(self, key: str) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self._client.hgetall(key).items()}

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        names = [_key(n) for n in (*COUNTERS, LATENCY)]
        self._client.delete(*names)


_stores: dict[str, _MemoryStore | _RedisStore] = {}
PAUSE_AFTER_FAILURE = 30.0  # seconds without writes after a failed one
FLUSH_EVERY = 1.0  # seconds a count may wait in its process before it is in Redis


def _store() -> _MemoryStore | _RedisStore:
    """One store per configured URL (a connection pool to Redis, or the demo's memory)."""
    url = settings.REDIS_URL
    if url not in _stores:
        _stores[url] = _RedisStore(url) if url else _MemoryStore()
    return _stores[url]


def _key(metric: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'sp')}:metrics:{metric}"


def _write(writes: list[tuple[str, str, float]]) -> None:
    """(key, field, amount): an int amount is a count, a float one a sum of seconds."""
    store = _store()
    if isinstance(store, _MemoryStore) or time.monotonic() >= store.paused_until:
        store.add(writes)


def _flush_safely(store: _RedisStore) -> None:
    """Send the pending writes; a store that fails pauses this process's counting (see above)."""
    if time.monotonic() < store.paused_until:
        return
    try:
        store.flush()
    except StoreUnavailable as exc:  # counting must never fail the counted action (see above)
        store.paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.warning(
            "metrics store unreachable (%s): counts are dropped for %.0f s",
            exc,
            PAUSE_AFTER_FAILURE,
        )


def flush() -> None:
    """Send this process's pending counts now (the flusher does it every FLUSH_EVERY s)."""
    store = _store()
    if isinstance(store, _RedisStore):
        _flush_safely(store)


def count(metric: str, **labels: str) -> None:
    """Add one to `metric` with these labels (every label of its spec, as strings)."""
    spec = COUNTERS[metric]
    if set(labels) != set(spec.labels):
        raise ValueError(f"{metric} takes the labels {spec.labels}, not {tuple(labels)}")
    field = json.dumps([str(labels[name]) for name in spec.labels])
    _write([(_key(metric), field, 1)])


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    """One request's latency into its view's histogram (bucket, sum and count in one write)."""
    labels = json.dumps([view, method, f"{status // 100}xx"])
    bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)  # len(BUCKETS) = the +Inf bucket
    key = _key(LATENCY)
    _write([(key, f"b{bucket}|{labels}", 1), (key, f"sum|{labels}", seconds)])


def reset() -> None:
    """Tests only: forget every count of the configured store and any pause."""
    store = _store()
    if isinstance(store, _RedisStore):
        store.paused_until = 0.0
    store.clear()


def families() -> Iterator[Metric]:
    """Every counter and the latency histogram as prometheus-client metric families."""
    flush()  # this process's own counts are in the figures it serves
    store = _store()
    for metric, spec in COUNTERS.items():
        family = CounterMetricFamily(PREFIX + metric, spec.help, labels=spec.labels)
        for field, value in sorted(store.read(_key(metric)).items()):
            family.add_metric(json.loads(field), value)
        yield family
    yield _latency_family(store.read(_key(LATENCY)))


def _latency_family(raw: dict[str, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        PREFIX + LATENCY,
        "Time to answer a request, by view name, method and status class.",
        labels=("view", "method", "status"),
    )
    per_labels: dict[str, dict[str, float]] = {}
    for field, value in raw.items():
        kind, labels = field.split("|", 1)
        per_labels.setdefault(labels, {})[kind] = value
    for labels, parts in sorted(per_labels.items()):
        cumulative, buckets = 0.0, []
        edges = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
        for i, edge in enumerate(edges):
            cumulative += parts.get(f"b{i}", 0.0)
            buckets.append((edge, cumulative))
        family.add_metric(json.loads(labels), buckets, sum_value=parts.get("sum", 0.0))
    return family


class RequestLatencyMiddleware:
    """Times every request by the name of the view that answered it (not its path: paths carry
    ids, and a label per id would grow without bound)."""

    def __init__(self, get_response: Callable) -> None:  # type: ignore[type-arg]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        observe_request(view, request.method, response.status_code, time.perf_counter() - start)
        return response
