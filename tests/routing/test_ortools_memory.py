"""The OR-Tools model is freed after its solve: OR-Tools holds the Python callables it is
given out of the garbage collector's sight, so a callback bound to the model kept every
model of a long run alive (4 MB a solve of 26 stops; a what-if sweep's worker grew to
7.7 GB and was killed)."""

from __future__ import annotations

import gc
import weakref

from routing import Stop
from routing._ortools import OrToolsModel
from routing.diagnose import diagnose
from tests.routing.test_repair import _line


def test_a_solved_model_is_freed() -> None:
    problem = _line([Stop(f"s{i}", i, demand=(1,)) for i in range(1, 6)])
    model = OrToolsModel(problem, diagnose(problem))
    plan = model.search(time_limit=5.0, solution_limit=5)
    assert sum(len(r.stops) for r in plan.routes) == 5  # it did solve, callbacks and all
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None
