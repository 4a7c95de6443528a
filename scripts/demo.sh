#!/usr/bin/env bash
# `make demo`: migrate, seed believable data (idempotent), print the logins, serve the portal.
# Embedded by default (SQLite, Celery eager). With DATABASE_URL and REDIS_URL set, it uses them and
# starts a real Celery worker and beat beside the web server.
set -euo pipefail
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"

echo "==> Database: ${DATABASE_URL:-SQLite (db.sqlite3)}"
$PY manage.py migrate --noinput
$PY manage.py seed_demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}" ]; then
  echo "==> REDIS_URL is set: starting a Celery worker and beat (logs in var/)"
  mkdir -p var
  .venv/bin/celery -A safety_portal worker --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
  pids+=($!)
  .venv/bin/celery -A safety_portal beat --loglevel=INFO --schedule=var/celerybeat-schedule >var/beat.log 2>&1 &
  pids+=($!)
else
  echo "==> No REDIS_URL: background jobs run eagerly inside the web process."
fi
PORT="${PORT:-8000}"
echo "==> Starting the portal on http://127.0.0.1:${PORT}/"
$PY manage.py runserver "127.0.0.1:${PORT}" &
server=$!
pids+=("$server")
# Wait for /readyz (database reachable and migrated, broker or outbox, audit chain): the same
# probe a load balancer uses. A server that dies or stays unready stops the demo with its answer.
$PY scripts/wait_ready.py "http://127.0.0.1:${PORT}/readyz" --timeout 60 --pid "$server"
echo "==> Ready: open http://127.0.0.1:${PORT}/ and sign in with a login above (Ctrl-C to stop)"
wait "$server"
