# XBM — `make run` starts the three services; `make test` runs every check and test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# `make run` needs only what the services run on; `make test` (and lint, fuzz, bench) adds the development tools
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev run test test-fast lint fuzz bench demo migration clean clients

$(PY):
	@echo "== creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(PY)
	@echo "== installing XBM's runtime dependencies into $(VENV) (first time only; a minute or two)"
	$(PY) -m pip install --progress-bar on --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	@echo "== installing the development tools (tests, linters) into $(VENV)"
	$(PY) -m pip install --progress-bar on --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(RUNTIME)

install-dev: $(STAMP)

run: $(RUNTIME)
	@echo "== the xbm command line is $(VENV)/bin/xbm (e.g. $(VENV)/bin/xbm login; or: source $(VENV)/bin/activate)"
	$(PY) -m xbm.run

lint: $(STAMP)
	$(VENV)/bin/ruff check shared services xbm tests $(wildcard bench)
	$(VENV)/bin/ruff format --check shared services xbm tests $(wildcard bench)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy shared services xbm $(wildcard bench)

test: lint
	$(VENV)/bin/pytest -q -p no:cacheprovider
	@if [ -n "$$XBM_TEST_DATABASE_URL" ]; then \
		echo "== database tests again on PostgreSQL =="; \
		XBM_TEST_BACKEND=postgres $(VENV)/bin/pytest -q -p no:cacheprovider -m db; \
	fi

# while developing: the service, domain, security and frontend tests on SQLite, spread over every CPU — no system
# tests (real processes), no fuzzing, no browser; a few minutes. `make test` stays the full suite CI runs.
test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -n auto -m "not system and not browser" --ignore=tests/fuzz

# the OpenAPI documents, the Python client and the TypeScript types in clients/, regenerated from the code
clients: $(STAMP)
	$(PY) clients/generate.py

# schemathesis with a larger budget and new random cases each run, and the property tests exploring new cases
# too (make test replays a small, fixed set of both)
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP)
	XBM_HYPOTHESIS_PROFILE=explore $(VENV)/bin/pytest -q -p no:cacheprovider -n auto -m "not system and not browser" --ignore=tests/fuzz
	XBM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) XBM_FUZZ_FULL=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/fuzz
	@if [ -n "$$XBM_TEST_DATABASE_URL" ]; then \
		XBM_TEST_BACKEND=postgres XBM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) XBM_FUZZ_FULL=1 \
		$(VENV)/bin/pytest -q -p no:cacheprovider tests/fuzz; \
	fi

# with `make run` going: Company A's season through all three services
demo: $(RUNTIME)
	@echo "== the demo's xbm commands are $(VENV)/bin/xbm (or: source $(VENV)/bin/activate, then xbm ...)"
	$(PY) -m xbm.cli.demo

# the benchmarks (PostgreSQL; see bench/RESULTS.md), then the event relay under ten minutes of sustained ingest
bench: $(STAMP)
	$(PY) -m bench.run
	$(PY) -m bench.relay_backlog

# make migration SVC=plans MSG="what changed"
migration: $(STAMP)
	$(PY) -c "import sys; from pathlib import Path; from alembic import command; \
	from shared.migrations import alembic_config; import tempfile, os; \
	db = os.path.join(tempfile.mkdtemp(), 'm.db'); url = 'sqlite+aiosqlite:///' + db; \
	cfg = alembic_config(Path('services/$(SVC)/migrations'), url); command.upgrade(cfg, 'head'); \
	command.revision(cfg, message='$(MSG)', autogenerate=True)"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
