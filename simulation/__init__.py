"""The what-if simulator and the cities it runs on.

``simulation.run(scenario, *, seed=None) -> Report`` runs a scenario's replications on
simulated time with the production planning and option policies (a digital twin) and returns
KPIs per replication and vehicle type with 95 % confidence intervals.

Where things live:

* :mod:`simulation.scenario` — the scenario file (TOML/YAML, validated, every field with its
  unit) and :func:`load_scenario`;
* :mod:`simulation.cities` — the cities: the synthetic street grid, the real Helsinki district,
  any GraphML street graph, the city a scenario names and travel times on its streets;
* :mod:`simulation.world` — the customers, orders and couriers drawn for a replication, and the
  simulated clock's units;
* :mod:`simulation.twin` — the digital twin: building a replication (:mod:`simulation.twin.setup`)
  and its SimPy processes (arrivals, planning waves, vehicles, robots' charging, couriers,
  returns, the day's end), one module each;
* :mod:`simulation.pickups` — the returns market and each return's path;
* :mod:`simulation.kpis` and :mod:`simulation.report` — what was measured, and ``run``;
  :mod:`simulation.sweep` and :mod:`simulation.plots` — grids of scenarios and their figures;
* :mod:`simulation.errors` — :class:`SimulationError` and its tree;
* :mod:`simulation.workload`, :mod:`simulation.seed_store` — the demo day and seeding a store,
  with :mod:`simulation.seed_catalogue` (products, stores, sales, stock),
  :mod:`simulation.seed_profiles` (schedules, learned slots) and :mod:`simulation.seed_history`
  (a delivered past day whose lines can be returned).
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
