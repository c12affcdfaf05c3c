"""One call from a VROOM payload to VROOM's output: parse, translate, solve, answer."""

from __future__ import annotations

import resource
import time
from typing import Any

from orchestrator.vroom.output import to_vroom_output
from orchestrator.vroom.parsing import check_size, parse_vroom
from orchestrator.vroom.problem import to_problem
from routing import Limits, solve
from routing.errors import SolverError

__all__ = ["BYTES_PER_CELL", "solve_vroom"]

BYTES_PER_CELL = 64
"""Memory a problem takes per cell of its dense matrices (locations squared, per profile),
bytes: the float matrices computed from coordinates, their integer copies, durations and
distances, the engine's own. A problem that would need more than this process may map
(``RLIMIT_AS``, set by the server's solver workers) is refused at once, before any matrix
is built."""


def solve_vroom(payload: object, limits: Limits | None = None, *, seed: int = 0) -> dict[str, Any]:
    """Parse, solve and answer a VROOM problem in one call.

    Parameters
    ----------
    payload
        The decoded VROOM JSON input.
    limits
        Search limits for :func:`routing.solve` (defaults to ``Limits()``).
    seed
        Random seed of the search.

    Returns
    -------
    dict
        VROOM's output (see :func:`to_vroom_output`).

    Raises
    ------
    VroomInputError
        For an invalid or unsupported input (render it with :func:`error_output`).
    MemoryError
        The problem's matrices would not fit this process's address space (``RLIMIT_AS``).
    TimeoutError
        The search found no plan within the time limit.
    """
    t0 = time.perf_counter()
    check_size(payload)  # over a documented limit: 422, the client's to fix, before 503
    _check_memory(payload)
    vp = parse_vroom(payload)
    problem = to_problem(vp)
    loading_ms = round((time.perf_counter() - t0) * 1000)
    try:
        solution = solve(problem, limits, seed=seed)
    except SolverError as exc:
        # A VROOM problem locks no stop, so the search failed for want of time alone.
        limit = (limits or Limits()).time_limit
        raise TimeoutError(
            f"no plan was found within time_limit={limit:g} s for {len(vp.tasks)} tasks — "
            "allow more time or send a smaller problem"
        ) from exc
    return to_vroom_output(vp, solution, loading_ms=loading_ms)


def _check_memory(payload: object) -> None:
    """Raise :class:`MemoryError` when the problem's dense matrices cannot fit the address
    space this process may use (see :data:`BYTES_PER_CELL`)."""
    cap, _ = resource.getrlimit(resource.RLIMIT_AS)
    if cap == resource.RLIM_INFINITY or not isinstance(payload, dict):
        return
    vehicles = payload.get("vehicles")
    vehicles = vehicles if isinstance(vehicles, list) else []
    places = 2 * len(vehicles)
    for key, per in (("jobs", 1), ("shipments", 2)):
        tasks = payload.get(key)
        places += per * len(tasks) if isinstance(tasks, list) else 0
    profiles = {v.get("profile", "car") for v in vehicles if isinstance(v, dict)}
    need = places * places * BYTES_PER_CELL * max(1, len(profiles))
    try:
        with open("/proc/self/statm") as statm:  # mapped now, in pages (Linux)
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        mapped = 0
    if mapped + need > cap:
        raise MemoryError(
            f"{places} places need about {need // 2**20} MB of matrices, more than the "
            f"{(cap - mapped) // 2**20} MB left to this process"
        )
