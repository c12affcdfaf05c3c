"""What every test process needs before collection: its own PostgreSQL database.

``make test`` runs the suite in two worker processes (pytest-xdist, one per core, whole files
to a worker so a module's fixtures are made once). The PostgreSQL variants of the store's
tests drop and create tables in the database ``LASTMILE_TEST_POSTGRES_URL`` names, so two
workers sharing it would trip over each other: each worker gets its own database, the named
one with the worker's id appended (``lastmile_test_gw0``), created on first use (the CI role
may create databases) and left for the next run. Without xdist nothing changes.

It also marks the timing tests ``serial`` (see :data:`SERIAL`): ``make test`` runs them after
the two workers, alone in one process.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_ENV = "LASTMILE_TEST_POSTGRES_URL"

# The timing tests, marked `serial` here in one place: each asserts that something happens
# within a time (a deadline met, a solve ended near its limit, a page in 100 ms, a lock waited
# out) or while something else runs (answers during a solve, writes during an import, a restart
# between two sweep points), and a second test worker loading the other core made some of them
# fail in each two-worker CI run. `make test` runs them after the parallel part, alone in one
# process. A whole file is named when all of it is such a test. A name that no longer matches
# a test of a collected file is an error, so a renamed test cannot silently leave the group.
SERIAL = (
    "tests/api/test_auth.py::test_failed_keys_beyond_the_limit_are_429_with_retry_after",
    "tests/api/test_board.py::test_a_2000_stop_day_in_one_query_per_table_within_100_ms",
    "tests/api/test_cli_progress.py::test_ticking_follows_the_clock_and_says_when_it_ended_early",
    "tests/api/test_cli_progress.py::test_ticking_ends_with_one_closing_line",
    "tests/api/test_limits.py::test_a_chunked_body_is_counted_while_it_arrives",
    "tests/api/test_limits.py::test_a_vroom_problem_over_the_task_limit_is_422_before_any_search",
    "tests/api/test_plans.py::test_polling_answers_while_the_job_solves",
    "tests/api/test_races.py",
    "tests/api/test_simulations_serve.py::"
    "test_a_sweep_stopped_by_a_restart_resumes_without_running_its_done_points_again",
    "tests/api/test_solver_limits.py",
    "tests/api/test_vroom.py::test_health_answers_while_a_solve_runs",
    "tests/benchmarks/test_product_runs.py::test_lastmile_plan_passes_the_checker",
    "tests/benchmarks/test_product_runs.py::test_lastmile_plan_passes_the_checker_with_reloads",
    "tests/orchestrator/test_import_lock.py::test_other_writers_get_in_while_a_long_import_runs",
    "tests/routing/test_decompose.py::test_a_multi_zone_day_serves_every_stop_with_a_valid_plan",
    "tests/routing/test_determinism.py::test_same_problem_same_plan_without_seed",
    "tests/routing/test_determinism.py::test_same_problem_same_plan_with_pyvrp_seed",
    "tests/routing/test_repair.py::test_a_repaired_seed_with_breaks_is_kept_whole",
)
"""Node ids (a file, or a file and a test's name without its parameters) marked ``serial``."""


def pytest_configure(config: pytest.Config) -> None:
    """Point this worker at a database of its own (a no-op without xdist or PostgreSQL)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get(POSTGRES_ENV)
    if not worker or not url:
        return
    import sqlalchemy as sa

    base = sa.make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": mine.database},
            ).scalar()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        engine.dispose()
    os.environ[POSTGRES_ENV] = mine.render_as_string(hide_password=False)


def serial_files() -> list[str]:
    """The files of the :data:`SERIAL` tests: ``make test`` collects only these for its serial
    part (collecting the whole suite again would cost tens of seconds)."""
    return sorted({name.split("::", 1)[0] for name in SERIAL})


def _serial(nodeid: str, name: str) -> bool:
    """Whether the test ``nodeid`` is, or is in, the :data:`SERIAL` entry ``name``."""
    return nodeid == name or nodeid.startswith((f"{name}::", f"{name}["))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the :data:`SERIAL` tests ``serial``; fail on an entry naming no collected test of
    a collected file."""
    files = {item.nodeid.split("::", 1)[0] for item in items}
    unmatched = {name for name in SERIAL if name.split("::", 1)[0] in files}
    if any("::" in arg for arg in config.args):
        unmatched = set()  # single tests asked for: the other tests of their files are absent
    for item in items:
        for name in SERIAL:
            if _serial(item.nodeid, name):
                item.add_marker(pytest.mark.serial)
                unmatched.discard(name)
    if unmatched:
        raise pytest.UsageError(
            f"tests/conftest.py SERIAL names no test: {', '.join(sorted(unmatched))}"
        )
