# Certifia: `make run` serves the app on http://127.0.0.1:5000 (SQLite); `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
# The PostgreSQL database of the tests: WIPED at each run (DROP SCHEMA public). A dedicated one,
# created when the server answers without it; TEST_DATABASE_URL chooses another.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/certifia_test

.PHONY: run serve test test-sqlite test-postgres e2e mutants system-deps install lint bench worker backup restore clean

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

# Production serving (docs/deploy.md): gunicorn with gunicorn.conf.py (GUNICORN_BIND, GUNICORN_WORKERS,
# GUNICORN_THREADS, … from the environment), after the schema is at the latest migration. The plain line:
#   .venv/bin/gunicorn -c gunicorn.conf.py
serve: install
	$(FLASK) db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py

# Debian packages of the PDF and browser tests (installed when root or sudo allows it).
system-deps:
	@scripts/system_deps.sh

# The whole suite on SQLite, then on PostgreSQL when it answers (REQUIRE_POSTGRES=1, or an explicit
# TEST_DATABASE_URL: it must). scripts/pg_available.py tells a server down (1) from a missing database (2).
test: install system-deps
	$(BIN)/ruff check app tests scripts
	$(MAKE) --no-print-directory test-sqlite
	@url="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}"; \
	required="$${REQUIRE_POSTGRES:-0}"; [ -n "$$TEST_DATABASE_URL" ] && required=1; \
	$(BIN)/python scripts/pg_available.py --create "$$url"; status=$$?; \
	if [ $$status -eq 0 ]; then \
		echo "Suite PostgreSQL sur $$url (cette base est vidée par les tests)."; \
		TEST_DATABASE_URL="$$url" $(MAKE) --no-print-directory test-postgres; \
	elif [ "$$required" = "1" ]; then \
		echo "PostgreSQL exigé (REQUIRE_POSTGRES=1 ou TEST_DATABASE_URL) : suite PostgreSQL impossible." >&2; exit 1; \
	elif [ $$status -eq 1 ]; then \
		echo "PostgreSQL ne répond pas : suite PostgreSQL ignorée."; \
	else \
		echo "Base PostgreSQL inutilisable (voir ci-dessus) : suite PostgreSQL ignorée."; \
	fi

# tests/deploy (marker multihost: gunicorn hosts behind HAProxy, PostgreSQL, Redis) run here once, on their
# own database (MULTIHOST_DATABASE_URL, default certifia_ops_multihost, WIPED); skipped without the tools.
test-sqlite: install
	TEST_DATABASE_URL= $(BIN)/pytest -q

test-postgres: install
	@$(BIN)/python scripts/pg_available.py --create "$${TEST_DATABASE_URL:-$(PG_TEST_URL)}"
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}" $(BIN)/pytest -q -m "not e2e and not multihost"

# Only the browser journeys (headless /usr/bin/chromium); screenshots in tests/e2e/screenshots/.
e2e: install system-deps
	TEST_DATABASE_URL= $(BIN)/pytest -q -m e2e tests/e2e

# Each rule's tests must fail once its guard is removed from the code (one mutant per rule).
mutants: install
	$(BIN)/python scripts/rule_mutants.py

lint: install
	$(BIN)/ruff check app tests scripts

# Statistics on a synthetic branch (DATABASE_URL, generated once; BENCH_STATS_1M_DATABASE_URL: a second one of
# 1,000,000 files, generated once with COPY, with the exports' figures, BENCH_PDF_DATABASE_URL: WIPED), then a 300-file jury session's pages
# (BENCH_JURY_DATABASE_URL: a database the benchmark WIPES; skipped when unset); then /health and a file page
# at 16 clients through HAProxy, one vs two gunicorn hosts (BENCH_SERVING_DATABASE_URL: WIPED; skipped when unset);
# then the key pages at 16 clients and jury registration at 50 through the API, each against GET /health of the
# same run, with their SQL statements (BENCH_PAGES_DATABASE_URL: 100,000 files generated once, kept; skipped when unset).
bench: install
	$(BIN)/python tests/perf/bench_stats.py
	@if [ -n "$$BENCH_STATS_1M_DATABASE_URL" ]; then \
		DATABASE_URL="$$BENCH_STATS_1M_DATABASE_URL" BENCH_FILES=1000000 $(BIN)/python tests/perf/bench_stats.py && \
		DATABASE_URL="$$BENCH_STATS_1M_DATABASE_URL" $(BIN)/python tests/perf/bench_exports.py; \
	else echo "BENCH_STATS_1M_DATABASE_URL non défini : statistiques et exports à 1 000 000 de dossiers ignorés."; fi
	@if [ -n "$$BENCH_JURY_DATABASE_URL" ]; then \
		DATABASE_URL="$$BENCH_JURY_DATABASE_URL" $(BIN)/python tests/perf/bench_decisions.py; \
	else echo "BENCH_JURY_DATABASE_URL non défini : mesure des pages de jury ignorée."; fi
	$(BIN)/python tests/perf/bench_cdc.py
	$(BIN)/python tests/perf/bench_training_orgs.py
	$(BIN)/python tests/perf/bench_candidate_import.py
	$(BIN)/python tests/perf/bench_serving.py
	$(BIN)/python tests/perf/bench_pages.py
	$(BIN)/python tests/perf/bench_registration.py

# The RQ worker (app/worker.py): the outbox, and with RQ's scheduler the daily reminders and the outbox's
# retries; REDIS_URL=redis://127.0.0.1:6379/0 for instance.
worker: install
	$(BIN)/python -m app.worker

# Backups (docs/deploy.md): DATABASE_URL (PostgreSQL) and UPLOAD_DIR from the environment; BACKUP_DIR
# (default backups/) gets certifia-<date>.dump (pg_dump -Fc) and certifia-<date>.uploads.tar.gz.
# Restore into an empty database and upload dir: make restore BACKUP=backups/certifia-20270312-020000
backup: install
	$(BIN)/python deploy/backup.py backup --dir "$${BACKUP_DIR:-backups}"

restore: install
	@[ -n "$(BACKUP)" ] || { echo "Indiquez la sauvegarde : make restore BACKUP=backups/certifia-AAAAMMJJ-HHMMSS" >&2; exit 1; }
	$(BIN)/python deploy/backup.py restore "$(BACKUP)"

clean:
	rm -rf $(VENV) instance *.egg-info
