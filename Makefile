# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-serial test-slow lint format bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lastmile demo

# Two worker processes (pytest-xdist, whole files to a worker so a module's fixtures are made
# once; tests/conftest.py gives each its own PostgreSQL database), then the timing tests (marked
# `serial` in tests/conftest.py: answers while a solve runs, writes during an import, deadlines)
# alone in one process, where no second worker loads the other core. Both parts always run;
# the target fails if either does; each lists its slowest tests, to keep the suite's time in
# view (the guide: well under 10 minutes on 2 cores). `make test-serial`: all in one process.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not serial" -q -n 2 --dist loadfile --durations=40; \
	parallel=$$?; \
	$(BIN)/python -m pytest -m "serial and not slow" -q \
		--durations=10 $$($(BIN)/python -c "from tests.conftest import serial_files; print(*serial_files())"); \
	serial=$$?; \
	if [ $$parallel -ne 0 ]; then exit $$parallel; fi; \
	exit $$serial

test-serial: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

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
