"""One call from a VROOM payload to VROOM's output: parse, translate, solve, answer."""

from __future__ import annotations

import time
from typing import Any

from orchestrator.vroom.output import to_vroom_output
from orchestrator.vroom.parsing import parse_vroom
from orchestrator.vroom.problem import to_problem
from routing import Limits, solve

__all__ = ["solve_vroom"]


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
    """
    t0 = time.perf_counter()
    vp = parse_vroom(payload)
    problem = to_problem(vp)
    loading_ms = round((time.perf_counter() - t0) * 1000)
    solution = solve(problem, limits, seed=seed)
    return to_vroom_output(vp, solution, loading_ms=loading_ms)
