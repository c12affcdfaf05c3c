"""The promise-keeping policy in the twin (``policies.promises = "kept"``, issue #17): today's
policy draws exactly what it drew before the policy existed; the planner and the concierge plan
on a buffer; the twin learns the spread of its own outcomes; a late route tells the customer
before the window; a customer asked before the vehicle sets out who will not be there is not
attempted and gets a new option; no vehicle goes past a promise silently."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from simulation.kpis import replication_kpis
from simulation.scenario import Scenario
from simulation.twin import Twin
from tests.simulation.conftest import tiny_dict


def _state(rng: np.random.Generator) -> str:
    """A short digest of a generator's state (what it has drawn so far)."""
    text = json.dumps(rng.bit_generator.state, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_today_draws_and_measures_what_it_did_before_the_policy() -> None:
    # Figures of the tiny scenario over two days on main before "kept" existed (6571dc4):
    # the same events, the same random draws, the same KPIs.
    twin = Twin(Scenario.from_dict(tiny_dict(days=2)))
    twin.run()
    k = replication_kpis(twin)
    assert k.promises is not None
    assert (k.delivered, k.failed, k.unserved, k.events, k.plans) == (78, 0, 2, 536, 38)
    assert (k.cost_eur, k.km, k.first_attempt_success) == (1285.625203, 52.674, 0.897436)
    assert (k.promises.promised, k.promises.kept, k.promises.notices) == (78, 71, 0)
    assert [_state(g) for g in (twin.noise_rng, twin.presence_rng, twin.courier_rng)] == [
        "6fba0f03e15a5b67", "b226b8daac818e14", "aab02c5cc4135e10"
    ]  # fmt: skip
