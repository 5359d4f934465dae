# Certifia: `make run` serves the app on http://127.0.0.1:5000 (SQLite); `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres e2e mutants system-deps install lint bench worker clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) demo
	@echo "Certifia : http://127.0.0.1:5000  (boîte mail de développement : http://127.0.0.1:5000/boite-mail)"
	$(FLASK) run --host 127.0.0.1 --port 5000

# Debian packages of the PDF and browser tests (installed when root or sudo allows it).
system-deps:
	@scripts/system_deps.sh

# The whole suite on SQLite, then on PostgreSQL when it answers (REQUIRE_POSTGRES=1: it must).
test: install system-deps
	$(BIN)/ruff check app tests scripts
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ] || $(BIN)/python scripts/pg_available.py "$(PG_TEST_URL)"; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
		echo "PostgreSQL ne répond pas sur 127.0.0.1:5432 (base test) et REQUIRE_POSTGRES=1." >&2; exit 1; \
	else \
		echo "PostgreSQL ne répond pas : suite PostgreSQL ignorée."; \
	fi

test-sqlite: install
	TEST_DATABASE_URL= $(BIN)/pytest -q

test-postgres: install
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}" $(BIN)/pytest -q -m "not e2e"

# Only the browser journeys (headless /usr/bin/chromium); screenshots in tests/e2e/screenshots/.
e2e: install system-deps
	TEST_DATABASE_URL= $(BIN)/pytest -q -m e2e tests/e2e

# Each rule's tests must fail once its guard is removed from the code (one mutant per rule).
mutants: install
	$(BIN)/python scripts/rule_mutants.py

lint: install
	$(BIN)/ruff check app tests scripts

bench: install
	$(BIN)/python tests/perf/bench_stats.py

worker: install
	$(BIN)/rq worker emails --url "$${REDIS_URL:?REDIS_URL est requis}"

clean:
	rm -rf $(VENV) instance *.egg-info
