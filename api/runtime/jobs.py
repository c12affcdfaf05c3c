"""Where solves run: pools of worker processes beside the web server.

Why processes and not threads: the solvers hold Python's GIL for the whole search (OR-Tools'
``Solve`` is one long C++ call that does not release it; measured: a thread solving for 4 s
stalled every other thread of the process for those 4 s). A solve in a thread of the server
would stop it answering anything — ``/health``, the polling of jobs — until the solve ends.
Workers are started with ``spawn`` (the server has threads, and forking a threaded process
can deadlock), lazily, on the first solve (a few seconds: they import the engines before
they take a call); a worker that dies, or is killed, is replaced. As with any ``spawn``
program, a script that serves the app itself must guard its entry point with ``if __name__ ==
"__main__":`` (a worker imports the main module); ``lastmile serve``, ``uvicorn api.app:...``
and pytest do.

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
(:meth:`SolverPool.run`), so the event loop only awaits them. One request cannot take the
host down: a solve is stopped (its worker killed) at its deadline, when its client goes away
and when the server stops; a worker's address space is capped (:data:`MEMORY_MB`); at most
:data:`SOLVES_WAITING` solves wait for a worker; and every worker and simulation run dies
with the server process that started it, even one killed with ``SIGKILL``. What cannot be
answered now is a :class:`SolverUnavailable` (the API's 503 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import importlib
import logging
import math
import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
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

__all__ = [
    "DEFAULT_WORKERS",
    "MEMORY_MB",
    "POLL_S",
    "PRELOAD",
    "SOLVES_WAITING",
    "PlanJobs",
    "SimulationJobs",
    "SolverPool",
    "SolverUnavailable",
    "recover_interrupted",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 2
"""Solves at the same time per pool (a small machine has two cores)."""

MEMORY_MB = 1800
"""Address space a solver process may use, MB (``RLIMIT_AS``). A worker with the solvers
imported maps about 650 MB (250 MB resident); at 1,800 MB a 1,000-job VROOM problem solves
(800 MB resident) while a 5,000-job one stops within two seconds with a :class:`MemoryError`
instead of growing without bound (unbounded it passed 13 GB)."""

SOLVES_WAITING = 4
"""``POST /solve/vroom`` calls that may wait for a busy solver; more answer 503 at once
(each waits up to a whole solve per call ahead of it)."""

POLL_S = 0.2
"""How often a waiting call looks at its deadline, its cancellation and its client, seconds."""

START_S = 60.0
"""Seconds a new worker may take to import its modules and say it is ready."""

PRELOAD = ("routing",)
"""What a worker imports before its first call: the engines, with OR-Tools and PyVRP."""

_SPAWN = multiprocessing.get_context("spawn")

_CANCELLED = "interrupted: the server stopped before this job started — submit it again"


class SolverUnavailable(Exception):
    """A solve that cannot be answered now: over its deadline, over the memory a worker may
    use, or every worker busy with a queue already waiting (the API answers 503 with
    ``Retry-After``).

    Parameters
    ----------
    detail
        One sentence: what happened and what to do.
    retry_after
        Seconds after which the same request may succeed.
    """

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.detail, self.retry_after)


@dataclass(eq=False)
class _Task:
    """One call waiting for, or running in, a worker."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    deadline_s: float | None
    future: Future[Any] = field(default_factory=Future)
    cancel: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    """Whether a ready worker has the call (its deadline runs)."""


class SolverPool:
    """Worker processes that solve one call at a time each, and can be stopped mid-solve.

    Each worker is owned by a thread of this pool that hands it calls over a pipe and waits
    for the answer. A call that outlives its ``deadline_s``, is cancelled (its client went
    away), or meets :meth:`shutdown` with ``cancel_running`` has its worker killed
    (``SIGKILL``: the solvers hold the GIL and check no flag) and a fresh one started for
    the next call. Every worker caps its address space (``RLIMIT_AS``, :data:`MEMORY_MB`)
    so one problem cannot take the host's memory: past it the solve fails with a
    :class:`MemoryError`, reported as :class:`SolverUnavailable`, and the worker is replaced.
    Workers die with their server process, even one killed with ``SIGKILL``: they ask the
    kernel for ``SIGKILL`` when the thread that started them ends (``PR_SET_PDEATHSIG``,
    Linux) and, elsewhere, notice a closed pipe when idle.

    Parameters
    ----------
    workers
        Processes at most; each is started on demand and then kept.
    memory_mb
        Address space a worker may use, MB (``None``: unlimited).
    max_waiting
        Calls that may wait for a free worker; more are refused with
        :class:`SolverUnavailable` (``None``: no bound).
    preload
        Modules a worker imports before it says it is ready (the solvers take a second or
        two to import, which should not count against a call's deadline).
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        *,
        memory_mb: int | None = MEMORY_MB,
        max_waiting: int | None = None,
        preload: tuple[str, ...] = PRELOAD,
    ) -> None:
        self._workers = workers
        self._preload = preload
        self._memory_mb = memory_mb
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._waiting = 0
        self._threads: list[threading.Thread] = []
        self._running: dict[int, _Task] = {}
        self._pids: dict[int, int] = {}
        self._closed = False

    @property
    def running(self) -> int:
        """Calls being solved right now (by a worker that is ready)."""
        with self._lock:
            return sum(task.started for task in self._running.values())

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        with self._lock:
            return sorted(self._pids.values())

    def submit(
        self, fn: Callable[..., T], /, *args: Any, deadline_s: float | None = None, **kwargs: Any
    ) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in a worker; ``fn`` and its arguments must pickle.

        Parameters
        ----------
        deadline_s
            Seconds the call may run once a worker has it; then the worker is killed and
            the future fails with :class:`SolverUnavailable`.

        Raises
        ------
        RuntimeError
            The pool was shut down.
        SolverUnavailable
            ``max_waiting`` calls already wait.
        """
        return self._submit(_Task(fn, args, kwargs, deadline_s)).future

    def _submit(self, task: _Task) -> _Task:
        with self._lock:
            if self._closed:
                raise RuntimeError("the solver pool is shut down")
            busy = len(self._running) + self._waiting
            if self._max_waiting is not None and busy >= self._workers + self._max_waiting:
                raise SolverUnavailable(
                    f"all {self._workers} solver processes are busy and {self._waiting} "
                    "solves wait — send the request again in a moment",
                    retry_after=_retry_after(task.deadline_s),
                )
            self._waiting += 1
            if len(self._threads) < min(self._workers, busy + 1):
                slot = len(self._threads)
                thread = threading.Thread(
                    target=self._serve, args=(slot,), name=f"lastmile-solver-{slot}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put(task)
        return task

    async def run(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        deadline_s: float | None = None,
        gone: Callable[[], Awaitable[bool]] | None = None,
        **kwargs: Any,
    ) -> T:
        """Await ``fn(*args, **kwargs)`` run in a worker (its exceptions are raised here).

        Parameters
        ----------
        deadline_s
            As for :meth:`submit`.
        gone
            Asked every :data:`POLL_S` seconds; when it answers ``True`` (the client went
            away) the call is stopped and :class:`SolverUnavailable` raised. A cancelled
            await (the server stops) stops the call too.
        """
        task = self._submit(_Task(fn, args, kwargs, deadline_s))
        waiter = asyncio.wrap_future(task.future)
        try:
            while True:
                done, _ = await asyncio.wait({waiter}, timeout=POLL_S)
                if done:
                    result: T = waiter.result()
                    return result
                if gone is not None and await gone():
                    task.cancel.set()
                    raise SolverUnavailable("the client went away; the solve was stopped")
        finally:
            if not task.future.done():
                task.cancel.set()
                task.future.cancel()

    def shutdown(self, *, cancel_running: bool = False) -> None:
        """Cancel what has not started and stop the workers; what runs is waited for, or
        stopped with ``cancel_running``."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
            if cancel_running:
                for task in self._running.values():
                    task.cancel.set()
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()
        while True:  # calls still queued behind the sentinels
            try:
                left = self._queue.get_nowait()
            except queue.Empty:
                break
            if left is not None:
                left.future.cancel()

    # -- a slot: one thread, one worker at a time ------------------------------------------

    def _serve(self, slot: int) -> None:
        worker: _Worker | None = None
        try:
            while True:
                task = self._queue.get()
                if task is None:
                    return
                with self._lock:
                    self._waiting -= 1
                    closed = self._closed
                if closed or not task.future.set_running_or_notify_cancel():
                    task.future.cancel()
                    continue
                with self._lock:
                    self._running[slot] = task
                try:
                    if worker is None:
                        worker = self._start(slot)
                    worker = self._call(worker, task)
                except BaseException as exc:  # a worker that would not start
                    if not task.future.done():
                        task.future.set_exception(exc)
                finally:
                    with self._lock:
                        self._running.pop(slot, None)
                        if worker is None:
                            self._pids.pop(slot, None)
                        closed = self._closed
                if worker is None and not closed:
                    # Replace a killed worker now, while nobody waits for it.
                    with contextlib.suppress(Exception):
                        worker = self._start(slot)
        finally:
            if worker is not None:
                worker.stop()
            with self._lock:
                self._pids.pop(slot, None)

    def _start(self, slot: int) -> _Worker:
        worker = _Worker(self._memory_mb, self._preload)
        with self._lock:
            self._pids[slot] = worker.pid
        return worker

    def _call(self, worker: _Worker, task: _Task) -> _Worker | None:
        """Hand ``task`` to ``worker`` and settle its future; the worker if it may be kept."""
        try:
            worker.send((task.fn, task.args, task.kwargs))
        except (OSError, ValueError) as exc:
            worker.kill()
            task.future.set_exception(BrokenProcessPool(f"the solver process died ({exc})"))
            return None
        ends = None if task.deadline_s is None else time.monotonic() + task.deadline_s
        with self._lock:
            task.started = True
        while not worker.ready(POLL_S):
            if task.cancel.is_set():
                worker.kill()
                task.future.set_exception(
                    SolverUnavailable(
                        "the solve was stopped (its client went away or the server is stopping)"
                    )
                )
                return None
            if ends is not None and time.monotonic() > ends:
                worker.kill()
                task.future.set_exception(
                    SolverUnavailable(
                        f"the solve did not finish within {task.deadline_s:g} s and was "
                        "stopped — allow a longer time_limit, send a smaller problem, or "
                        "plan it as a job with POST /plans",
                        retry_after=_retry_after(task.deadline_s),
                    )
                )
                return None
        try:
            ok, value = worker.receive()
        except (EOFError, OSError) as exc:
            code = worker.kill()
            task.future.set_exception(
                BrokenProcessPool(f"the solver process died (exit code {code}; {exc!r})")
            )
            return None
        if ok:
            task.future.set_result(value)
            return worker
        if isinstance(value, MemoryError):
            worker.kill()  # its heap may stay large; a fresh worker starts small
            task.future.set_exception(
                SolverUnavailable(
                    f"the problem needs more memory than a solver process may use "
                    f"({self._memory_mb} MB) — send a smaller problem or split it"
                )
            )
            return None
        if isinstance(value, TimeoutError):
            task.future.set_exception(SolverUnavailable(str(value)))
            return worker
        task.future.set_exception(value)
        return worker


def _retry_after(deadline_s: float | None) -> int:
    return max(1, math.ceil(deadline_s or 1))


class _Worker:
    """One solver process and the parent's end of its pipe."""

    def __init__(self, memory_mb: int | None, preload: tuple[str, ...]) -> None:
        self._conn, child = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_worker_main,
            args=(child, memory_mb, os.getpid(), preload),
            name="lastmile-solver",
            daemon=True,
        )
        self._process.start()
        child.close()
        assert self._process.pid is not None
        self.pid: int = self._process.pid
        try:
            if not self._conn.poll(START_S):
                raise EOFError(f"not ready after {START_S:g} s")
            self._conn.recv()  # "ready"
        except (EOFError, OSError) as exc:
            code = self.kill()
            raise BrokenProcessPool(
                f"a solver process did not start (exit code {code}; {exc})"
            ) from exc

    def send(self, message: object) -> None:
        self._conn.send(message)

    def ready(self, timeout: float) -> bool:
        return self._conn.poll(timeout)

    def receive(self) -> tuple[bool, Any]:
        ok, value = self._conn.recv()
        return bool(ok), value

    def kill(self) -> int | None:
        """Kill the process now; its exit code."""
        self._process.kill()
        self._process.join()
        self._conn.close()
        return self._process.exitcode

    def stop(self) -> None:
        """Ask the idle process to end, killing it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


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
                target=_orphan_safe,
                args=(run_simulation, os.getpid(), job_id, token, self._url, str(self.root)),
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


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when the thread that started it ends (Linux), so
    that a server killed with ``SIGKILL`` leaves no solver running; and end now if that
    parent is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _orphan_safe(fn: Callable[..., object], parent_pid: int, *args: Any) -> None:
    """Run ``fn(*args)`` in a process that dies with the server that started it."""
    _die_with_parent(parent_pid)
    fn(*args)


def _worker_main(
    conn: Connection, memory_mb: int | None, parent_pid: int, preload: tuple[str, ...]
) -> None:
    """A solver process: import ``preload``, say it is ready, then run the calls the pipe
    brings and send back each outcome, until the pipe closes or brings ``None``."""
    _die_with_parent(parent_pid)
    if memory_mb is not None:
        cap = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for module in preload:
        importlib.import_module(module)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if message is None:
            return
        fn, args, kwargs = message
        try:
            reply: tuple[bool, object] = (True, fn(*args, **kwargs))
        except BaseException as exc:  # every failure goes back to the caller
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an answer or error that does not pickle
            conn.send((False, RuntimeError(f"the solver's answer could not be sent: {exc!r}")))
