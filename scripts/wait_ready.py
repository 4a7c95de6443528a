"""Wait until a readiness URL answers 200, printing what it is waiting for (`make demo`).

Exit 0 when ready; 1 with the last answer when the timeout passes or the watched process exits.
Standard library only: it runs before anything else is known to work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


def probe(url: str) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        return None, f"not answering yet ({exc.__class__.__name__})"


def alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def unready_checks(body: str) -> str:
    try:
        checks = json.loads(body).get("checks", {})
    except ValueError:
        return body[:200]
    return "; ".join(f"{name}: {c['detail']}" for name, c in checks.items() if not c.get("ok"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--pid", type=int, help="give up at once if this process exits")
    args = parser.parse_args()
    deadline, last = time.monotonic() + args.timeout, ""
    while time.monotonic() < deadline:
        status, body = probe(args.url)
        if status == 200:
            return 0
        last = body if status is None else f"HTTP {status}: {unready_checks(body)}"
        if not alive(args.pid):
            print(f"The server exited before it was ready. Last answer: {last}", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(
        f"Not ready after {args.timeout:.0f} s. Last answer: {last}\n"
        "Fix what the check says (or see the server's output above) and run it again.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
