"""A local stand-in for the DSA Transparency Database's multiple-statement endpoint.

It implements the documented contract (safety_portal/integrations/transparency_db.py, D20) on a
real socket: Bearer token (401), 1-100 statements, validation errors by position (422, nothing
created), puids already stored or repeated (422 with `existing_puids`, nothing created), 201 with
each created statement's uuid. Tests script trouble in front of it: a status to answer (429 with
Retry-After, 503), a delay longer than the client's timeout, or stopping it altogether. What it
stored survives a stop and a restart on the same port, as the real database would.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TOKEN = "X|test-token-for-the-local-database"
VALID_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
REQUIRED = ("decision_ground", "category", "decision_facts", "puid", "automated_detection")


@dataclass
class Trouble:
    """One scripted answer: `status` with `headers`, after sleeping `delay` seconds; with
    `then_store` the call is also processed (a slow answer for statements that were stored)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    then_store: bool = False


@dataclass
class State:
    stored: dict[str, str] = field(default_factory=dict)  # puid -> uuid
    created: Counter[str] = field(default_factory=Counter)  # how often each puid was created
    calls: list[list[str]] = field(default_factory=list)  # the puids of every call received
    statuses: list[int] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    stop_after_calls: int | None = None  # stop serving once this many calls were answered

    def answer(self, authorization: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if authorization != f"Bearer {TOKEN}":
            return 401, {}, {"message": "Unauthenticated."}
        try:
            statements = json.loads(body)["statements"]
        except (ValueError, KeyError, TypeError):
            return 422, {}, {"message": "The statements field is required.", "errors": {}}
        if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
            message = "The statements field must have between 1 and 100 items."
            return 422, {}, {"message": message, "errors": {"statements": [message]}}
        self.calls.append([s.get("puid", "") for s in statements])
        errors: dict[str, Any] = {}
        for index, statement in enumerate(statements):
            problems = {
                f: [f"The {f.replace('_', ' ')} field is required."]
                for f in REQUIRED
                if not statement.get(f)
            }
            if (
                statement.get("decision_ground")
                and statement["decision_ground"] not in VALID_GROUNDS
            ):
                problems["decision_ground"] = ["The selected decision ground is invalid."]
            if problems:
                errors[f"statement_{index}"] = problems
        if errors:
            return 422, {}, {"errors": errors}
        puids = [s["puid"] for s in statements]
        repeated = {p for p, n in Counter(puids).items() if n > 1}
        existing = sorted(repeated | {p for p in puids if p in self.stored})
        if existing:
            message = "The platform identifier(s) are not all unique within this call."
            return (
                422,
                {},
                {"message": message, "errors": {"puid": [message], "existing_puids": existing}},
            )
        out = []
        for statement in statements:
            self.stored[statement["puid"]] = str(uuid.uuid4())
            self.created[statement["puid"]] += 1
            out.append(
                {**statement, "uuid": self.stored[statement["puid"]], "platform_name": "Test"}
            )
        return 201, {}, {"statements": out}


class TransparencyDatabase:
    """Start, stop and restart the server on one port; `state` outlives restarts."""

    def __init__(self) -> None:
        self.state = State()
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/api/v1/statements":
                    self._send(404, {}, {"message": "Not found."})
                    return
                with owner._lock:
                    trouble = owner.state.troubles.pop(0) if owner.state.troubles else None
                if trouble is not None and trouble.delay:
                    time.sleep(trouble.delay)
                with owner._lock:
                    if (
                        trouble is not None
                        and trouble.status is not None
                        and not trouble.then_store
                    ):
                        status, headers, data = (
                            trouble.status,
                            trouble.headers,
                            {"message": "Trouble."},
                        )
                    else:
                        status, headers, data = owner.state.answer(
                            self.headers.get("Authorization", ""), body
                        )
                    owner.state.statuses.append(status)
                    stop = (
                        owner.state.stop_after_calls is not None
                        and len(owner.state.statuses) >= owner.state.stop_after_calls
                    )
                if stop:
                    # Closed before this answer leaves: the client's next call finds nobody.
                    owner.state.stop_after_calls = None
                    owner.stop()
                with contextlib.suppress(OSError):  # the client gave up waiting (a timeout test)
                    self._send(status, headers, data)

            def _send(self, status: int, headers: dict[str, str], data: Any) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def running(self) -> bool:
        return self._server is not None
