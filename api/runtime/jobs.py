"""Where solves run: pools of worker processes beside the web server.

Why processes and not threads: the solvers hold Python's GIL for the whole search (OR-Tools'
``Solve`` is one long C++ call that does not release it; measured: a thread solving for 4 s
stalled every other thread of the process for those 4 s). A solve in a thread of the server
would stop it answering anything — ``/health``, the polling of jobs — until the solve ends.
Workers are started with ``spawn`` (the server has threads, and forking a threaded process
can deadlock), lazily, on the first solve (about a second); a worker that dies is replaced
by a fresh pool. As with any ``spawn`` program, a script that serves the app itself must
guard its entry point with ``if __name__ == "__main__":`` (a worker imports the main
module); ``lastmile serve``, ``uvicorn api.app:...`` and pytest do.

:class:`PlanJobs` runs plan jobs. Their state lives in the store (:mod:`orchestrator.jobs.plans`):
``POST /plans`` stores a queued plan row and hands its id to :meth:`PlanJobs.enqueue`; a
worker opens its own engine on the same database URL and runs
:func:`orchestrator.jobs.plans.run_job`, which claims the row, plans the day into it and records
the outcome. So the store must be reachable from another process (a file or a server, not
an in-memory SQLite database). Jobs a previous server left queued or running are marked
failed (:data:`orchestrator.jobs.plans.INTERRUPTED`) by :meth:`PlanJobs.start`, and jobs still
queued when this server stops are marked so by :meth:`PlanJobs.shutdown`; running ones are
waited for. One server process runs the jobs of a store (``lastmile serve`` runs one).

:class:`SimulationJobs` runs simulation jobs (``POST /simulations``), whose state also lives
in the store (:mod:`orchestrator.jobs.simulations`), so that every process of a
``lastmile serve --workers N`` answers for every job and a restart loses none. Unlike plans
they are *resumed* after a restart, not failed: a simulation changes nothing in the world,
its result does not age (same request, same numbers) and a sweep's finished points are
cached in the job's folder, so running it again costs only the points still missing.

* On start-up, once per store (the supervisor of ``lastmile serve --workers N``, or the app
  of a one-process server), :func:`recover_interrupted` queues again the jobs a stopped
  server left running. Then every app's :meth:`SimulationJobs.start` hands all queued jobs
  to its own runner; each run begins by claiming its job with a conditional update
  (:func:`orchestrator.jobs.simulations.claim_job`), so whichever process is free first runs
  a job and the others skip it — exactly one runs each.
* ``POST /simulations`` stores a queued job and hands it to the runner of the process that
  took the request.
* A run is a process of its own (``spawn``), started by one of a few runner threads that
  wait for it: a sweep may run for hours, and a server asked to stop should stop now, not
  when the sweep ends. :meth:`SimulationJobs.shutdown` terminates the running ones and
  gives their jobs back to the queue; jobs still queued stay queued. The next start resumes
  them all.
* A run that records nothing and exits abnormally (killed, out of memory) is recorded
  failed with its exit code.

:class:`SolverPool` also runs the synchronous ``POST /solve/vroom`` solves
(:meth:`SolverPool.run`), so the event loop only awaits them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from api.runtime.simulation_runs import run_job as run_simulation
from orchestrator.errors import OrchestratorError
from orchestrator.jobs.plans import interrupt_jobs, run_job
from orchestrator.jobs.simulations import claim_job, fail_job, queued_jobs, release_job
from orchestrator.jobs.simulations import requeue_interrupted as requeue_simulations
from orchestrator.planning.travel import TravelTimes, travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, session_scope

__all__ = ["DEFAULT_WORKERS", "PlanJobs", "SimulationJobs", "SolverPool", "recover_interrupted"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 2
"""Solves at the same time per pool (a small machine has two cores)."""

_SPAWN = multiprocessing.get_context("spawn")

_CANCELLED = "interrupted: the server stopped before this job started — submit it again"


class SolverPool:
    """A pool of solver processes that replaces itself when a worker dies.

    Parameters
    ----------
    workers
        Processes at most; each is started on demand and then kept.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in a worker; ``fn`` and its arguments must pickle.

        Raises
        ------
        RuntimeError
            The pool was shut down.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the solver pool is shut down")
            for attempt in (1, 2):
                if self._pool is None:
                    self._pool = ProcessPoolExecutor(
                        max_workers=self._workers,
                        mp_context=multiprocessing.get_context("spawn"),
                    )
                try:
                    return self._pool.submit(fn, *args, **kwargs)
                except BrokenProcessPool:
                    if attempt == 2:
                        raise
                    _log.warning("a solver process died; starting a fresh pool")
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
        raise AssertionError("unreachable")

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Await ``fn(*args, **kwargs)`` run in a worker (its exceptions are raised here)."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Cancel what has not started, wait for what runs, and stop the workers."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def recover_interrupted(engine: Engine) -> list[int]:
    """Mark the plan jobs a previous server left queued or running as failed, and queue
    again the simulation jobs it left running; the plan jobs' ids.

    Run it once per store at start-up, before any process runs jobs (see the module's
    docstring).
    """
    with session_scope(engine) as session:
        ids = interrupt_jobs(session)
        simulations = requeue_simulations(session)
    if ids:
        _log.warning("plan jobs %s were interrupted by a restart; marked failed", ids)
    if simulations:
        _log.warning("simulation jobs %s were interrupted by a restart; queued again",
                     simulations)  # fmt: skip
    return ids


class PlanJobs:
    """Runs the store's plan jobs in a :class:`SolverPool`.

    Parameters
    ----------
    settings
        The store and planner settings the workers open their engine and travel times with.
    engine
        This process's engine on the same store (to mark jobs that cannot run).
    workers
        Jobs solved at the same time.
    """

    def __init__(
        self, settings: Settings, engine: Engine, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._pool = SolverPool(workers)

    def start(self) -> list[int]:
        """Mark the jobs a previous server left queued or running as failed; their ids."""
        return recover_interrupted(self._engine)

    def enqueue(self, plan_id: int) -> None:
        """Run the queued job ``plan_id`` in a worker as soon as one is free."""
        try:
            future = self._pool.submit(_run_job, self._settings, plan_id)
        except (RuntimeError, BrokenProcessPool) as exc:
            self._interrupt(
                plan_id, f"the solver could not take this job ({exc}) — submit it again"
            )
            return
        future.add_done_callback(functools.partial(self._finished, plan_id))

    def shutdown(self) -> None:
        """Stop: queued jobs are marked failed, running ones are waited for."""
        self._pool.shutdown()

    def _finished(self, plan_id: int, future: Future[str]) -> None:
        if future.cancelled():
            self._interrupt(plan_id, _CANCELLED)
            return
        exc = future.exception()
        if exc is None or isinstance(exc, OrchestratorError):
            return  # recorded by run_job, or the job was not this server's to run
        _log.error("plan job %s: the solver process failed: %r", plan_id, exc)
        self._interrupt(plan_id, f"the solver process failed ({exc!r}) — submit it again")

    def _interrupt(self, plan_id: int, reason: str) -> None:
        with session_scope(self._engine) as session:
            interrupt_jobs(session, [plan_id], reason=reason)


class SimulationJobs:
    """Runs the store's simulation jobs, each in a process of its own (see the module's
    docstring).

    Parameters
    ----------
    settings
        The store's URL and the simulations folder (``simulations_dir``) of the runs.
    engine
        This process's engine on the same store (to claim jobs and record abnormal ends).
    workers
        Jobs run at the same time by this server process.
    """

    def __init__(
        self, settings: Settings, engine: Engine, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self._url = settings.database_url
        self._engine = engine
        self.root = Path(settings.simulations_dir).resolve()
        """The simulations folder: a job's files are in its sub-folder ``folder``."""
        self._runners = ThreadPoolExecutor(workers, thread_name_prefix="lastmile-simulation")
        self._lock = threading.Lock()
        self._running: dict[int, BaseProcess] = {}
        self._closed = False

    def start(self) -> list[int]:
        """Take up the store's queued jobs (new, or left by a stopped server); their ids."""
        with session_scope(self._engine) as session:
            ids = queued_jobs(session)
        for job_id in ids:
            self.enqueue(job_id)
        if ids:
            _log.info("simulation jobs %s queued in the store; running them here if free", ids)
        return ids

    def enqueue(self, job_id: int) -> None:
        """Run the queued job ``job_id`` when a runner is free, unless another process has
        claimed it by then. After :meth:`shutdown` the job stays queued for the next start."""
        with self._lock:
            if self._closed:
                return
            self._runners.submit(self._run, job_id)

    def shutdown(self) -> None:
        """Stop: running jobs are stopped and queued again, queued ones stay queued."""
        with self._lock:
            self._closed = True
            running = list(self._running.values())
        self._runners.shutdown(wait=False, cancel_futures=True)
        for process in running:
            process.terminate()
        self._runners.shutdown(wait=True)

    def _run(self, job_id: int) -> None:
        """One job, in a runner thread: claim it, run it in a process, wait for the end."""
        token: str | None = None
        try:
            with session_scope(self._engine) as session:
                token = claim_job(session, job_id)
            if token is None:
                return  # another process runs it, or ran it
            process = _SPAWN.Process(
                target=run_simulation,
                args=(job_id, token, self._url, str(self.root)),
                name=f"lastmile-simulation-{job_id}",
                daemon=True,  # stopped if this server process exits without shutdown()
            )
            with self._lock:
                stopping = self._closed
                if not stopping:
                    process.start()
                    self._running[job_id] = process
            if not stopping:
                process.join()
                with self._lock:
                    self._running.pop(job_id, None)
                    stopping = self._closed
            with session_scope(self._engine) as session:
                if stopping:
                    release_job(session, job_id, token)  # no-op if the run recorded its end
                elif process.exitcode != 0:
                    fail_job(session, job_id, token,
                             f"the simulation process stopped unexpectedly (exit code "
                             f"{process.exitcode}) — submit it again")  # fmt: skip
        except Exception as exc:  # a runner thread has nobody to tell but the log and store
            _log.exception("simulation job %s: the runner failed", job_id)
            if token is not None:
                with session_scope(self._engine) as session:
                    fail_job(session, job_id, token, f"the server could not run this job "
                             f"({exc!r}) — submit it again")  # fmt: skip


# -- in the worker processes -----------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _worker_store(settings_json: str) -> tuple[Engine, TravelTimes]:
    """The worker's engine and travel times, made once per worker and settings."""
    settings = Settings.model_validate_json(settings_json)
    return create_engine(settings.database_url), travel_from_settings(settings)


def _run_job(settings: Settings, plan_id: int) -> str:
    """Run one plan job (in a worker process); its final status."""
    engine, travel = _worker_store(settings.model_dump_json())
    with session_scope(engine) as session:
        return run_job(session, plan_id, travel=travel).status.value
