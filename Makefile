# mlob — two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-test lint typecheck importlint unit screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Start the server on the embedded SQLite store (./var/) with the demo scenario.
run: install
	$(BIN)/mlob serve --host $(HOST) --port $(PORT) --demo

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

importlint: install-test
	$(BIN)/lint-imports

typecheck: install-test
	$(BIN)/mypy

unit: install-test
	$(BIN)/python -m pytest

## Take docs/screen.png: the screen on the demo in headless Chromium (apt-get install chromium).
screenshot: install-test
	$(BIN)/python docs/screenshot.py

## Install test dependencies and run every check and test.
test: lint importlint typecheck unit

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
