# Relatiebeheer — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export RELATIEBEHEER_VAR ?= $(CURDIR)/var

.PHONY: run test venv dev-venv migrate demo lint typecheck browsers fuzz bench clean messages openapi

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(VENV)/.dev-installed: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)
dev-venv: $(VENV)/.dev-installed

migrate: venv
	$(BIN)/relatiebeheer migrate --noinput -v 0
	$(BIN)/relatiebeheer collectstatic --noinput -v 0

## make run: set up everything and serve the app (with the demo) on HOST:PORT
run: migrate
	@$(BIN)/relatiebeheer demo --if-empty
	@echo ""
	@echo "  Relatiebeheer runs at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"
	@$(BIN)/relatiebeheer demo --print-logins
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/relatiebeheer serve --with-worker

## make test: set up the dev environment and a browser, then lint, type-check and run every test
# --dist load, not loadgroup: schemathesis gives every operation of a test the same node id,
# and loadgroup scheduling silently drops such duplicates (the fuzz tests never ran).
test: dev-venv browsers
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/relatiebeheer makemigrations --check --dry-run -v 1
	$(BIN)/python scripts/typecheck.py
	$(BIN)/python -m pytest -n 2 --dist load

## Debian's chromium and fonts for the browser and PDF tests (skipped with a notice when impossible)
browsers:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi dejavu; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium and fonts with apt-get…"; \
	    (apt-get install -y -q chromium fonts-dejavu-core fonts-liberation2 >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-dejavu-core fonts-liberation2 >/dev/null 2>&1)) || \
	    echo "NOTICE: could not install chromium; browser tests will be skipped."; \
	  else echo "NOTICE: chromium is missing and cannot be installed here; browser tests will be skipped."; fi; \
	fi

lint: dev-venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

## mypy (django-stubs) over core/ and every services.py, selectors.py and bulk.py
typecheck: dev-venv
	$(BIN)/python scripts/typecheck.py

## Compile the translations after editing the .po files
messages: dev-venv
	$(BIN)/python scripts/messages.py

fuzz: dev-venv
	RELATIEBEHEER_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest tests/fuzz -p no:xdist

bench: dev-venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var test-output

## make openapi: rewrite docs/openapi.json after a deliberate change to the API
openapi: venv
	$(BIN)/python -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relatiebeheer.config.settings'); django.setup(); from relatiebeheer.api.openapi import write_snapshot; print(write_snapshot())"
