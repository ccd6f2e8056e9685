# mlob — two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-test constraints lint typecheck importlint unit integration e2e screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt pins every dependency at versions the test run passed with (a new release
# of a dependency must not turn CI red by itself); `make constraints` writes it anew.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Upgrade the dependencies within pyproject.toml's ranges and pin what was installed (then run
## `make test` before committing the new constraints.txt).
constraints: | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade -e ".[test]"
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

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

## The tests in tiers (README, "Tests"): unit (domain and read models, in memory, under 30 s),
## integration (store and API in process), e2e (server processes, browser, crashes).
unit: install-test
	$(BIN)/python -m pytest tests/unit

integration: install-test
	$(BIN)/python -m pytest tests/integration

e2e: install-test
	$(BIN)/python -m pytest tests/e2e

## Take docs/screen.png: the screen on the demo in headless Chromium (apt-get install chromium).
screenshot: install-test
	$(BIN)/python docs/screenshot.py

## Install test dependencies and run every check and every test of every tier: four pytest
## workers on the two cores (a third of the time a worker waits on a server, a subprocess or
## the database: 441 s against 461-531 s with three; a module's tests stay on one worker, sharing its fixtures), modules handed out
## in collection order: e2e first (few tests, long ones), unit last (xdist's default, most
## tests first, left the long single-test e2e modules for the end); then the tests marked
## serial alone (one stops the shared PostgreSQL cluster; one bounds a server's memory, which
## a busy neighbour would inflate).
test: lint importlint typecheck
	$(BIN)/python -m pytest -n 4 --dist loadscope --no-loadscope-reorder -m "not serial"
	$(BIN)/python -m pytest -m serial

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
