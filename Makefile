# Safety Portal. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.txt | sha256sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)

# Test defaults: the real PostgreSQL and Redis of this machine (override on the command line).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/safety_portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/safety_portal_bench
PYTEST_ARGS ?=

.PHONY: demo test test-rules lint format bench clean venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(DEV_STAMP)

## demo: SQLite + eager Celery by default; PostgreSQL + a real worker when DATABASE_URL/REDIS_URL are set.
demo: $(RUN_STAMP)
	DEBUG=$${DEBUG:-true} bash scripts/demo.sh

## test: lint, format check, then the whole suite against the real PostgreSQL and Redis.
test: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	bash scripts/ensure_chromium.sh
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	SECRET_KEY=test-secret-key-not-for-production-$$RANDOM-0123456789abcdefghij \
	ALLOWED_HOSTS=localhost,127.0.0.1,testserver SECURE_SSL_REDIRECT=false \
	$(PY) -m pytest $(PYTEST_ARGS)

## test-rules: the pure rules floor alone, without Django or a database (seconds).
test-rules: $(DEV_STAMP)
	$(PY) -m pytest tests/rules -p no:django -W ignore::pytest.PytestConfigWarning

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: every benchmark in bench/ against PostgreSQL; data sets are built once and cached.
bench: $(DEV_STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	DEBUG=true $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var .pytest_cache
