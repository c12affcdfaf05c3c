"""The what-if simulator and the synthetic city it runs on.

``simulation.run(scenario, *, seed=None) -> Report`` runs a scenario's replications on
simulated time with the production planning and option policies (a digital twin) and returns
KPIs per replication and vehicle type with 95 % confidence intervals.

Where things live:

* :mod:`simulation.scenario` — the scenario file (TOML/YAML, validated, every field with its
  unit) and :func:`load_scenario`;
* :mod:`simulation.world` — the city, its travel times, the customers, orders and couriers of a
  replication;
* :mod:`simulation.engine` — the SimPy processes (arrivals, planning waves, vehicles, robots'
  charging, couriers, the day's end);
* :mod:`simulation.kpis` and :mod:`simulation.report` — what was measured, and ``run``;
* :mod:`simulation.errors` — :class:`SimulationError` and its tree;
* :mod:`simulation.city`, :mod:`simulation.helsinki`, :mod:`simulation.workload`,
  :mod:`simulation.seed_store` — the synthetic city, the real Helsinki district, the demo day
  and seeding a store.
"""

from simulation.errors import InvariantError, ScenarioError, SimulationError
from simulation.kpis import Estimate, ReplicationKpis, TypeKpis
from simulation.report import Performance, Report, run
from simulation.scenario import Scenario, load_scenario, scenario_json_schema

__all__ = [
    "Estimate",
    "InvariantError",
    "Performance",
    "ReplicationKpis",
    "Report",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "TypeKpis",
    "load_scenario",
    "run",
    "scenario_json_schema",
]
