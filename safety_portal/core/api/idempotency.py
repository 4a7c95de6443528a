"""Idempotency-Key handling for POST reports/ (issue 6).

The same client sending the same key with the same request gets the first answer again (200); the
same key with a different request is a 409; another client's keys are invisible (records are keyed
by client). The record is written in the same transaction as the work, so it exists exactly when
the work committed: a request that failed can be retried with the same key. Concurrent requests with
one key serialise on the unique index: the second waits for the first to commit, rolls its own work
back, and replays the first answer. Records are kept 24 hours (`tasks.purge_idempotency_records`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection

from safety_portal.core import clock
from safety_portal.core.errors import Conflict, DomainError

from .models import ApiClient, IdempotencyRecord

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, like the IETF draft's examples


def read_key(headers: Any) -> str:
    key = headers.get(HEADER)
    if key is None or key == "":
        raise DomainError(
            "idempotency_key_required",
            f"Send an {HEADER} header (a unique string per report, at most 255 characters).",
            fields={HEADER: ["required"]},
        )
    if not _KEY.match(key):
        raise DomainError(
            "invalid",
            f"The {HEADER} header must be 1 to 255 visible ASCII characters.",
            fields={HEADER: ["1 to 255 visible ASCII characters."]},
        )
    return key


def fingerprint(method: str, path: str, data: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Remember:
    """What `run_once` hands its action: the way to record the answer, exactly once.

    `remember(status, body)` writes the record at once. `remember.unsaved(status, body)` returns
    it unsaved, for a caller that writes it together with its own rows in one statement
    (`moderation.actions.filing`, D27); `run_once` refuses to answer unless it was written.
    """

    def __init__(self, *, client: ApiClient, key: str, method: str, path: str, digest: str):
        self._fields = {
            "client": client,
            "key": key,
            "method": method,
            "path": path[:255],
            "request_hash": digest,
        }
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.record: IdempotencyRecord | None = None

    def unsaved(self, status: int, body: dict[str, Any]) -> IdempotencyRecord:
        if not connection.in_atomic_block:
            raise RuntimeError("remember() must run inside the transaction of the work.")
        if self.answer is not None:
            raise RuntimeError("remember() runs once per request.")
        self.record = IdempotencyRecord(
            **self._fields, response_status=status, response_body=body, created_at=clock.now()
        )
        self.answer = (status, body)
        return self.record

    def __call__(self, status: int, body: dict[str, Any]) -> None:
        self.unsaved(status, body).save(force_insert=True)

    def written(self) -> tuple[int, dict[str, Any]]:
        if self.answer is None or self.record is None:
            raise RuntimeError("The action finished without remembering its answer.")
        if self.record._state.adding:
            raise RuntimeError("The action remembered its answer but never wrote the record.")
        return self.answer


def run_once(
    *,
    client: ApiClient,
    key: str,
    method: str,
    path: str,
    data: Any,
    action: Callable[[Remember], object],
) -> tuple[int, dict[str, Any]]:
    """Run `action` at most once per (client, key); return (status, body) — replayed with 200.

    `action(remember)` does the work in its transaction and, inside it, calls
    `remember(status, body)` once with its answer: that writes the record, so record and work
    commit together or not at all (or `remember.unsaved(...)`, and writes the record itself in
    that transaction). Call it before the work's audit entry, the transaction's last
    write (the entry holds the audit chain's lock until commit, docs/decisions.md D3), and let the
    work's own `atomic()` be the transaction: wrapping it in another one would only add a savepoint.

    Optimistic, because a retry is rare and every request pays for the common path: no look-up
    first, one INSERT. When the key is already taken — a retry, or a concurrent twin that
    committed first (the INSERT waits on the unique index until it does) — that transaction rolls
    back, work included, and the stored answer is replayed, or 409 when it was for another
    request. The same look-up runs when the work fails, so a reused key is a 409 whatever the new
    body would have caused.
    """
    digest = fingerprint(method, path, data)
    remember = Remember(client=client, key=key, method=method, path=path, digest=digest)
    try:
        action(remember)
    except (IntegrityError, DomainError):
        replay = _replay(client=client, key=key, digest=digest)
        if replay is None:
            raise  # not a reused key: the work itself failed, and nothing was written
        return replay
    return remember.written()


def respond_once(
    request: Any, *, client: ApiClient, key: str, action: Callable[[Remember], object]
) -> tuple[int, dict[str, Any]]:
    """`run_once` for a DRF request: its method, path and parsed body are what the key covers."""
    return run_once(
        client=client,
        key=key,
        method=request.method,
        path=request.path,
        data=request.data,
        action=action,
    )


def _replay(*, client: ApiClient, key: str, digest: str) -> tuple[int, dict[str, Any]] | None:
    record = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if record is None:
        return None
    if record.request_hash != digest:
        raise key_reused()
    return 200, record.response_body


def key_reused() -> Conflict:
    """The 409 for a key already used with another request (also a report receipt's, D38)."""
    return Conflict(
        "idempotency_key_reused", f"This {HEADER} was already used with a different request."
    )
