# Propose an innovation: run it, test it, ship it. `make help` lists the targets.
#
# Everything runs inside .venv (made by `make install`). Re-running a target is
# fast: install steps are skipped while their inputs are unchanged (stamp files).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The first Python 3.11+ that really runs (a pyenv shim may exist without its
# version installed); override with `make install PYTHON=/path/to/python3.12`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Demo size for `make run` and `make bench`.
N ?= 10000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k health -x"`.
PYTEST_ARGS ?=

# Environment for `make run` only (tests and checks set their own).
run: export DEBUG ?= true
run: export PORT ?= 8000
# Any management command, as `make run` runs them (DEBUG on unless you set it; a real
# SECRET_KEY and DEBUG=false behave as production): make manage ARGS="seed_demo --proposals 1000"
manage: export DEBUG ?= true
ARGS ?= help

.PHONY: help install run manage test test-fast lint typecheck check bench chaos clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'
	@echo "  Variables: PORT (8000), DATABASE_URL, CELERY_BROKER_URL, N (bench size), SKIP_SEED=1, PYTEST_ARGS"

# --- install ----------------------------------------------------------------------

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
		echo "make: Python 3.11 or newer is needed; found: $$(python3 --version 2>&1 || echo none)." >&2; \
		echo "      Install it, or say which to use: make install PYTHON=/path/to/python3.11" >&2; \
		exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
		echo "make: Python 3.11 or newer is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "      Install it, or say which to use: make install PYTHON=/path/to/python3.11" >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstalled only when the dependencies change.
$(VENV)/.installed: $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

# Front-end assets (GOV.UK Frontend from npm), when the project has them.
ifneq ($(wildcard package.json),)
NODE_STAMP := node_modules/.installed
ASSETS_STAMP := static/govuk/.built

$(NODE_STAMP): package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null || { echo "make: Node.js 18+ with npm is needed (https://nodejs.org)" >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# build:assets rebuilds static/govuk from scratch, so the stamp lives inside it:
# deleting the folder makes the next run rebuild it.
$(ASSETS_STAMP): $(NODE_STAMP) $(wildcard scripts/build-assets.*)
	npm run --silent build:assets
	@touch $@
endif

install: $(VENV)/.installed $(ASSETS_STAMP) ## Create .venv (Python 3.11+) and install Python and npm dependencies

# --- run --------------------------------------------------------------------------

run: install ## Migrate, seed demo data, and run web server + Celery worker + beat (PORT=8000)
	$(PY) manage.py migrate --noinput
	@if [ -n "$${SKIP_SEED:-}" ]; then echo "Skipping seed_demo (SKIP_SEED is set)"; \
	else $(PY) manage.py seed_demo; fi
	@# The demo's similar proposals at once, not after beat's first catch-up (a minute).
	$(PY) manage.py index_similarity
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) scripts/run_local.py

# --- quality ----------------------------------------------------------------------

test: install ## Run the whole test suite (real PostgreSQL/Redis/Chromium when present)
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# The inner loop: no browser, no real worker processes, spread over every core.
test-fast: install ## The quick suite: no browser or slow tests, in parallel (-n auto)
	$(PY) -m pytest -p no:cacheprovider -n auto -m "not browser and not slow" $(PYTEST_ARGS)

lint: install ## ruff check, ruff format --check, and the import layers (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# django-stubs imports the settings, which need DEBUG or a SECRET_KEY.
typecheck: install ## mypy with django-stubs
	DEBUG=true $(BIN)/mypy .

check: install ## Django system checks and a check for missing migrations
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py check

manage: install ## Run a management command locally: make manage ARGS="create_api_token lead@dfe.example"
	$(PY) manage.py $(ARGS)

# N is one size or several (N=10000,1000000: both databases, side by side, with the
# growth column); BENCH_ARGS passes more (e.g. BENCH_ARGS=--reuse).
bench: install ## Benchmarks on PostgreSQL: make bench N=10000 (or N=10000,1000000)
	$(PY) -m bench --sizes $(N) $(BENCH_ARGS)

# Not part of `make test`: minutes long, and it stops and kills what it starts.
chaos: install ## The bad day as real processes (own Redis, own PostgreSQL database): one table; fails if anything is lost or stuck
	$(PY) -m chaos

clean: ## Remove local data (var/), collected static files and tool caches (keeps .venv)
	rm -rf var staticfiles .mypy_cache .ruff_cache .pytest_cache bench-results
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
