# Developer entry points. Plain GNU make; recipes run in bash.
#   make run    install, migrate, load the demo program, start web + worker + beat
#   make test   lint (ruff, import contracts, mypy), then the test suite (SQLite pass, then
#               PostgreSQL + Redis pass)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

# Processes started from here (honcho, the Procfile's commands) find the venv's tools first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv install install-dev run test lint fmt clean screenshots

help:
	@echo "make run     start the app on http://127.0.0.1:$(PORT)/ (web, worker, beat)"
	@echo "make test    make lint, then the test suite (python -m tests.run_suite)"
	@echo "make lint    ruff check, import contracts (lint-imports), types (mypy)"
	@echo "make fmt     ruff format + ruff check --fix"
	@echo "make clean   remove var/, artifacts/ and caches (keeps .venv)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

venv: $(BIN)/python
install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	export CCDG_DEBUG=1; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py seed_demo --if-empty; \
	echo; \
	echo "=================================================================="; \
	echo "  CCDG is starting on  http://127.0.0.1:$(PORT)/"; \
	echo "  Demo sign-ins (password for all: ccdg-demo):"; \
	echo "    coordinator  facilitator  participant  reports  admin"; \
	echo "  Stop with Ctrl-C."; \
	echo "=================================================================="; \
	echo; \
	exec $(BIN)/honcho start --procfile Procfile --port $(PORT)

test: lint
	$(BIN)/python -m tests.run_suite $(PYTEST_ARGS)

# Refresh the screenshot tour the README shows (docs/screenshots/), in headless Chromium.
screenshots: $(DEV_STAMP)
	CCDG_TOUR_DIR=docs/screenshots $(BIN)/python -m pytest -q -p no:randomly tests/browser/test_screenshot_tour.py

# The contracts and the checked modules are configured in pyproject.toml.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var artifacts .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
