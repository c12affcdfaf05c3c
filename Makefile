# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-parallel test-slow lint format bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lastmile demo

# One process: the timing tests (answers while a solve runs, writers during an import) are
# sure only on a machine that is not loaded by a second test worker. `make test-parallel` runs
# two workers (about half the time; tests/conftest.py gives each its own PostgreSQL database).
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

test-parallel: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q -n 2 --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.routing --suite solomon --time-limit 2 --instances C101,R101 --compare pyvrp

clean:
	rm -rf $(VENV) out .pytest_cache
