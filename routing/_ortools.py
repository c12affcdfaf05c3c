"""The adapter to Google OR-Tools routing: the only module of lastmile that imports OR-Tools.

It owns the node <-> index mapping, the transit matrices, the dimensions (time, load per
capacity dimension, distance for range limits) and the search parameters, and turns the
assignment into a plain :class:`RawPlan`. It never prints; "no solution" becomes a
:class:`~routing.errors.SolverError`.

Nodes: the servable stops first (in problem order), then one node per distinct depot
location used by a vehicle, then one "open end" node that is free to reach (zero distance,
time and cost), shared by every vehicle whose route is open, then the reload nodes: one per
possible reload of a vehicle at each of its reload places (optional, that vehicle's only).

Costs: the objective is in units of ``1 / COST_SCALE`` of the currency, per vehicle
``fixed + per-km * distance + per-hour * (end - start)``, plus drop penalties.
"""

from __future__ import annotations

import functools
import itertools
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing._reloads import location_of
from routing._repair import cut
from routing._replay import timing
from routing.diagnose import Eligibility
from routing.errors import SolverError
from routing.model import Problem, StopKind, Vehicle, VehicleType

COST_SCALE = 10_000
"""Objective units per unit of currency."""

_FSS = routing_enums_pb2.FirstSolutionStrategy
_LSM = routing_enums_pb2.LocalSearchMetaheuristic

_STATUS = {
    0: "not solved",
    1: "success",
    2: "partial success (local optimum not reached)",
    3: "fail",
    4: "fail: time out",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}

_TIMEOUT = 4
"""``RoutingModel.status()`` when the time ran out before a first solution."""

NEIGHBOURS = 40
"""Nearest neighbours each local-search operator considers per node, on large problems."""

GRANULAR_ABOVE = 500
"""Stop count above which local search is restricted to nearest neighbours."""

LATE_COST_PER_SECOND = 1_000
"""Objective units per second of lateness at an already-dispatched (locked) stop."""


@dataclass(frozen=True, slots=True)
class RawRoute:
    """One vehicle's sequence as OR-Tools returned it: stop indices and service starts (s)."""

    vehicle: int
    stops: tuple[int, ...]
    starts: tuple[int, ...]
    start_time: int
    end_time: int
    breaks: tuple[tuple[int, int], ...]
    reloads: tuple[tuple[int, int, int], ...] = ()
    """(stops served before it, location, start of the reload in s) per reload."""


@dataclass(frozen=True, slots=True)
class RawPlan:
    """What the search returned: non-empty routes, dropped stop indices, statistics."""

    routes: tuple[RawRoute, ...]
    dropped: tuple[int, ...]
    objective: int
    status: str
    stats: dict[str, object] = field(default_factory=dict)


def _dimension(routing: pywrapcp.RoutingModel, name: str) -> pywrapcp.RoutingDimension:
    return routing.GetDimensionOrDie(name)


def add_dimension(
    routing: pywrapcp.RoutingModel,
    transits: Sequence[int],
    *,
    name: str,
    slack_max: int,
    capacities: Sequence[int],
    fix_start_cumul_to_zero: bool,
) -> pywrapcp.RoutingDimension:
    """Add a dimension with one transit callback and one capacity per vehicle."""
    ok = routing.AddDimensionWithVehicleTransitAndCapacity(
        list(transits), slack_max, list(capacities), fix_start_cumul_to_zero, name
    )
    if not ok:
        raise SolverError(f"OR-Tools refused dimension {name!r}")
    return _dimension(routing, name)


class OrToolsModel:
    """An OR-Tools routing model for one problem, built once and searched once.

    Parameters
    ----------
    problem
        The validated problem.
    eligibility
        The output of :func:`routing.diagnose.diagnose`; unservable stops are left out and
        each servable stop is restricted to its allowed vehicles.
    """

    def __init__(self, problem: Problem, eligibility: Eligibility) -> None:
        t0 = time.perf_counter()
        self.problem = problem
        self.allowed = eligibility.allowed
        self.stop_nodes: list[int] = list(eligibility.servable)
        n_stops = len(self.stop_nodes)
        self.node_of_stop = {s: n for n, s in enumerate(self.stop_nodes)}

        depot_locs = sorted(
            {v.start for v in problem.vehicles}
            | {v.end for v in problem.vehicles if v.end is not None}
        )
        depot_node = {loc: n_stops + k for k, loc in enumerate(depot_locs)}
        has_open = any(v.end is None for v in problem.vehicles)
        self.open_node = n_stops + len(depot_locs) if has_open else -1
        # Several trips a day: a node per possible reload of a vehicle at each of its places,
        # optional (free to skip) and served by that vehicle only.
        first_reload = n_stops + len(depot_locs) + (1 if has_open else 0)
        self.reload_nodes: list[tuple[int, int]] = [
            (vi, place)
            for vi, v in enumerate(problem.vehicles)
            if v.reloads
            for place in v.reload_at
            for _ in range(v.max_reloads)
        ]
        self.first_reload = first_reload
        n_nodes = first_reload + len(self.reload_nodes)

        stops = problem.stops
        loc = np.array(
            [stops[s].location for s in self.stop_nodes]
            + depot_locs
            + ([0] if has_open else [])
            + [place for _, place in self.reload_nodes],
            dtype=np.int64,
        )
        service = np.zeros(n_nodes, dtype=np.int64)
        service[:n_stops] = [stops[s].service for s in self.stop_nodes]
        for k, (vi, _) in enumerate(self.reload_nodes):
            service[first_reload + k] = problem.vehicles[vi].reload_time
        self.service = service

        starts = [depot_node[v.start] for v in problem.vehicles]
        ends = [
            depot_node[v.end] if v.end is not None else self.open_node for v in problem.vehicles
        ]
        self.manager = pywrapcp.RoutingIndexManager(n_nodes, len(problem.vehicles), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing, manager = self.routing, self.manager
        solver = routing.solver()

        # -- per vehicle type: cost, time and distance matrices over nodes -------------------
        type_names = sorted({v.type for v in problem.vehicles})
        cost_cb: dict[str, int] = {}
        time_cb: dict[str, int] = {}
        dist_cb: dict[str, int] = {}
        max_arc = 0
        need_range = any(problem.vehicle_type(t).range_m is not None for t in type_names)
        for name in type_names:
            vt = problem.vehicle_type(name)
            m = problem.matrices[vt.profile]
            dist = m.distances[np.ix_(loc, loc)].copy()
            dur = m.durations[np.ix_(loc, loc)].copy()
            if has_open:
                dist[:, self.open_node] = 0
                dur[:, self.open_node] = 0
            cost = np.rint(dist * (vt.cost_per_km * COST_SCALE / 1000.0)).astype(np.int64)
            max_arc = max(max_arc, int(cost.max(initial=0)))
            cost_cb[name] = routing.RegisterTransitMatrix(cost.tolist())
            time_cb[name] = routing.RegisterTransitMatrix((dur + service[:, None]).tolist())
            if need_range:
                dist_cb[name] = routing.RegisterTransitMatrix(dist.tolist())

        vtypes: list[VehicleType] = [problem.vehicle_type(v.type) for v in problem.vehicles]
        for vi, (v, vt) in enumerate(zip(problem.vehicles, vtypes, strict=True)):
            routing.SetArcCostEvaluatorOfVehicle(cost_cb[v.type], vi)
            if vt.fixed_cost:
                routing.SetFixedCostOfVehicle(round(vt.fixed_cost * COST_SCALE), vi)

        # -- time ----------------------------------------------------------------------------
        horizon = max(problem.horizon, 1)
        time_dim = add_dimension(
            routing,
            [time_cb[v.type] for v in problem.vehicles],
            name="time",
            slack_max=horizon,
            capacities=[horizon] * len(problem.vehicles),
            fix_start_cumul_to_zero=False,
        )
        self.time_dim = time_dim
        max_span_coef = 0
        for vi, (v, vt) in enumerate(zip(problem.vehicles, vtypes, strict=True)):
            start, end = routing.Start(vi), routing.End(vi)
            time_dim.CumulVar(start).SetRange(v.shift.start, v.shift.end)
            time_dim.CumulVar(end).SetRange(v.shift.start, v.shift.end)
            if vt.max_shift is not None:
                time_dim.SetSpanUpperBoundForVehicle(vt.max_shift, vi)
            coef = round(vt.cost_per_hour * COST_SCALE / 3600.0)
            if coef:
                time_dim.SetSpanCostCoefficientForVehicle(coef, vi)
                max_span_coef = max(max_span_coef, coef)
            # Finish as early as possible first (service early in its windows leaves room for
            # delays), then leave as late as that allows (no idle waiting at the first stop).
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(end))
            routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(start))

        locked = {sid for v in problem.vehicles for sid in v.locked}
        for node, s in enumerate(self.stop_nodes):
            stop = stops[s]
            idx = manager.NodeToIndex(node)
            cumul = time_dim.CumulVar(idx)
            if not stop.windows:
                continue
            if stop.id in locked:
                # Already on the truck: it will be served even if late, so lateness is a cost.
                cumul.SetMin(stop.windows[0].start)
                time_dim.SetCumulVarSoftUpperBound(idx, stop.windows[-1].end, LATE_COST_PER_SECOND)
                continue
            cumul.SetRange(stop.windows[0].start, stop.windows[-1].end)
            for a, b in itertools.pairwise(stop.windows):
                cumul.RemoveInterval(a.end + 1, b.start - 1)

        # -- breaks --------------------------------------------------------------------------
        self.break_intervals: dict[int, list[pywrapcp.IntervalVar]] = {}
        # Indexed by routing index (ends included): a break may not cut into a service.
        node_visit_transits = [
            int(service[manager.IndexToNode(i)]) if i < routing.Size() else 0
            for i in range(routing.Size() + len(problem.vehicles))
        ]
        for vi, v in enumerate(problem.vehicles):
            if not v.breaks:
                continue
            intervals = [
                solver.FixedDurationIntervalVar(
                    b.window.start, b.window.end, b.duration, False, f"break {v.id} #{k}"
                )
                for k, b in enumerate(v.breaks)
            ]
            time_dim.SetBreakIntervalsOfVehicle(intervals, vi, node_visit_transits)
            # OR-Tools lets a break fall before the start or after the end; a driver's break
            # belongs inside the shift actually worked.
            for iv in intervals:
                solver.Add(iv.StartExpr() >= time_dim.CumulVar(routing.Start(vi)))
                solver.Add(iv.EndExpr() <= time_dim.CumulVar(routing.End(vi)))
            self.break_intervals[vi] = intervals

        # -- load, per capacity dimension ------------------------------------------------------
        paired = {problem.stop_index(p.pickup) for p in problem.shipments} | {
            problem.stop_index(p.delivery) for p in problem.shipments
        }
        has_pickups = any(stops[s].kind is StopKind.PICKUP for s in self.stop_nodes)
        reload_indices = {
            manager.NodeToIndex(first_reload + k) for k in range(len(self.reload_nodes))
        }
        for k, dim_name in enumerate(problem.dimensions):
            demand = np.zeros(n_nodes, dtype=np.int64)
            demand[:n_stops] = [problem.demand(stops[s])[k] for s in self.stop_nodes]
            if not demand.any():
                continue
            caps = [problem.capacity(vt)[k] for vt in vtypes]
            if not has_pickups:
                # Cumul: delivered so far on this trip. A reload gives back a full vehicle:
                # its transit is minus the capacity and its slack (0..capacity) lets the cumul
                # fall to anything from 0 up; everywhere else the slack is 0.
                for r, (vi, _) in enumerate(self.reload_nodes):
                    demand[first_reload + r] = -caps[vi]
                cb = routing.RegisterUnaryTransitVector(demand.tolist())
                dim = add_dimension(
                    routing,
                    [cb] * len(caps),
                    name=f"load:{dim_name}",
                    slack_max=max(caps) if self.reload_nodes else 0,
                    capacities=caps,
                    fix_start_cumul_to_zero=True,
                )
                if self.reload_nodes:
                    for i in range(routing.Size()):
                        if i not in reload_indices:
                            dim.SlackVar(i).SetValue(0)
                continue
            # Load on board = loaded at the depot (all depot deliveries of the route)
            # - delivered so far + picked up so far; it must stay within capacity.
            sign = np.array(
                [1 if stops[s].kind is StopKind.PICKUP else -1 for s in self.stop_nodes]
                + [0] * (n_nodes - n_stops),
                dtype=np.int64,
            )
            from_depot = np.zeros(n_nodes, dtype=np.int64)
            for node, s in enumerate(self.stop_nodes):
                if stops[s].kind is StopKind.DELIVERY and s not in paired:
                    from_depot[node] = demand[node]
            load = add_dimension(
                routing,
                [routing.RegisterUnaryTransitVector((demand * sign).tolist())] * len(caps),
                name=f"load:{dim_name}",
                slack_max=0,
                capacities=caps,
                fix_start_cumul_to_zero=False,
            )
            loaded = add_dimension(
                routing,
                [routing.RegisterUnaryTransitVector(from_depot.tolist())] * len(caps),
                name=f"loaded:{dim_name}",
                slack_max=0,
                capacities=caps,
                fix_start_cumul_to_zero=True,
            )
            for vi in range(len(caps)):
                solver.Add(load.CumulVar(routing.Start(vi)) == loaded.CumulVar(routing.End(vi)))

        # -- range ---------------------------------------------------------------------------
        if need_range:
            big = int(max(m.distances.max(initial=0) for m in problem.matrices.values())) * (
                n_nodes + 1
            )
            add_dimension(
                routing,
                [dist_cb[v.type] for v in problem.vehicles],
                name="distance",
                slack_max=0,
                capacities=[vt.range_m if vt.range_m is not None else big for vt in vtypes],
                fix_start_cumul_to_zero=True,
            )

        # -- who may serve what, and what may be dropped -----------------------------------------
        n_vehicles = len(problem.vehicles)
        max_fixed = max((round(vt.fixed_cost * COST_SCALE) for vt in vtypes), default=0)
        optional_max = max(
            (
                round(st.penalty * COST_SCALE * (1 + st.priority))
                for st in (stops[s] for s in self.stop_nodes)
                if st.penalty is not None
            ),
            default=0,
        )
        self.mandatory_penalty = max(
            10**6,
            4 * (2 * max_arc + max_fixed + max_span_coef * horizon) + 1,
            10 * optional_max + 1,
        )
        for node, s in enumerate(self.stop_nodes):
            stop = stops[s]
            idx = manager.NodeToIndex(node)
            allowed = eligibility.allowed[s]
            if len(allowed) < n_vehicles:
                # -1 keeps "unperformed" possible (the stop sits in a disjunction).
                routing.VehicleVar(idx).SetValues([-1, *allowed])
            if stop.penalty is None or stop.id in locked:
                penalty = self.mandatory_penalty
            else:
                penalty = round(stop.penalty * COST_SCALE * (1 + stop.priority))
            routing.AddDisjunction([idx], penalty)

        for r, (vi, _) in enumerate(self.reload_nodes):
            idx = manager.NodeToIndex(first_reload + r)
            routing.VehicleVar(idx).SetValues([-1, vi])
            routing.AddDisjunction([idx], 0)

        for pd in problem.shipments:
            p, d = problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)
            if p not in self.node_of_stop or d not in self.node_of_stop:
                continue
            pi = manager.NodeToIndex(self.node_of_stop[p])
            di = manager.NodeToIndex(self.node_of_stop[d])
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.ActiveVar(pi) == routing.ActiveVar(di))
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            # No cumul precedence constraint: route order plus non-negative transits already
            # imply it, and a hard one would bind even when the pair is dropped.

        # Reading routes back (ReadAssignmentFromRoutes) runs a whole search over what the
        # routes leave open (times, breaks) and, once it holds a solution, goes on looking for a
        # cheaper one until the time limit: a 400-stop plan with breaks read in 0.5 s took the
        # whole 20 s given. A read stops at its first solution.
        self._reading = False
        self._first_at: list[float] = []
        # OR-Tools keeps the callables it is given, out of Python's sight: a bound method
        # would tie this model to itself in a cycle the garbage collector cannot see, and
        # every solve would leak its whole model (4 MB for 26 stops; a what-if sweep's worker
        # was killed at 7.7 GB). The callbacks reach the model through a weak reference.
        me = weakref.ref(self)

        def on_solution() -> None:
            model = me()
            if model is not None:
                model._on_solution()

        def read_overdue() -> bool:
            model = me()
            return model is not None and model._read_overdue()

        self._callbacks = (on_solution, read_overdue)  # alive while the model is
        routing.AddAtSolutionCallback(on_solution)
        # A read's own time limit is the one the model was closed with, counted afresh for each
        # read (and a route-by-route repair reads dozens of times): a 900-stop day with breaks
        # read for 77 s of a 40 s solve. Reads stop at the search's deadline instead.
        self._deadline = float("inf")
        self._read_out_of_time = False
        routing.AddSearchMonitor(solver.CustomLimit(read_overdue))

        self.build_seconds = time.perf_counter() - t0

    def _read_overdue(self) -> bool:
        """Whether a read has run past the deadline (checked by OR-Tools as it searches)."""
        if self._reading and time.perf_counter() > self._deadline:
            self._read_out_of_time = True
            return True
        return False

    def _on_solution(self) -> None:
        if self._reading:
            self.routing.solver().FinishCurrentSearch()
        elif not self._first_at:
            self._first_at.append(time.perf_counter())

    def _read(self, routes: Sequence[Sequence[int]]) -> pywrapcp.Assignment | None:
        """The routes (routing indices) as an assignment, or None if they break a constraint.

        Copied: the routing model's own solution object is overwritten by the next search. A
        read stopped by the deadline returns None and sets ``_read_out_of_time``.
        """
        if time.perf_counter() > self._deadline:
            self._read_out_of_time = True
            return None
        self._reading = True
        try:
            read = self.routing.ReadAssignmentFromRoutes([list(r) for r in routes], True)
        finally:
            self._reading = False
        if read is None and time.perf_counter() > self._deadline:
            # Stopped by the deadline (here or by the model's own limit), not refused.
            self._read_out_of_time = True
        return None if read is None else self.routing.solver().Assignment(read)

    # ------------------------------------------------------------------------------------------

    def _index_of_stop(self, stop_index: int) -> int:
        # OR-Tools ships no type information: its calls return Any.
        return cast(int, self.manager.NodeToIndex(self.node_of_stop[stop_index]))

    def _indices(self, vehicle: int, route: Sequence[int]) -> list[int]:
        """A plain route (stop indices and reload entries, :mod:`routing._reloads`) as routing
        indices; stops left out of the model and reloads beyond the vehicle's are skipped."""
        free: dict[int, list[int]] = {}
        for k, (vi, place) in enumerate(self.reload_nodes):
            if vi == vehicle:
                free.setdefault(place, []).append(self.first_reload + k)
        out = []
        for entry in route:
            at = location_of(entry)
            if at is None:
                if entry in self.node_of_stop:
                    out.append(self._index_of_stop(entry))
            elif free.get(at):
                out.append(self.manager.NodeToIndex(free[at].pop(0)))
        return out

    def _apply_locks(self) -> None:
        """Fix the already-dispatched prefix of each route as hard constraints."""
        routing = self.routing
        for vi, v in enumerate(self.problem.vehicles):
            prev = routing.Start(vi)
            for sid in v.locked:
                idx = self._index_of_stop(self.problem.stop_index(sid))
                routing.NextVar(prev).SetValue(idx)
                routing.VehicleVar(idx).SetValue(vi)
                routing.ActiveVar(idx).SetValue(1)
                prev = idx

    def search(
        self,
        *,
        time_limit: float,
        solution_limit: int | None = None,
        initial_routes: Mapping[int, Sequence[int]] | None = None,
        repair: bool = False,
        first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
        metaheuristic: str = "GUIDED_LOCAL_SEARCH",
        log: bool = False,
    ) -> RawPlan:
        """Search within the limits and return the best plan found.

        Parameters
        ----------
        time_limit
            Wall-clock seconds for the whole call: reading the initial routes back (each read,
            and the route-by-route repair, stops at this deadline) and the search after it.
            When the read cannot finish in time, the initial routes stand as the cautious
            replay (:mod:`routing._replay`) schedules them, cut to what it can drive;
            ``stats["replayed"]`` then says so. The same replayed plan replaces an OR-Tools
            plan that leaves out required stops when it costs less (the same objective).
        solution_limit
            Stop after this many solutions (makes the run repeatable on one machine).
        initial_routes
            Vehicle index -> stop indices, used as the first solution when OR-Tools accepts
            it (locked prefixes must come first); otherwise the search starts from scratch
            and ``stats["warm_start"]`` says so.
        repair
            When the initial routes break a constraint (a seed from a relaxed problem), keep
            of each route the stops it can hold and leave the rest to the search, instead of
            starting from scratch; ``stats["warm_start_repaired"]`` counts the stops taken out.
        """
        routing = self.routing
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(_FSS, first_solution)
        params.local_search_metaheuristic = getattr(_LSM, metaheuristic)
        params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
        if solution_limit is not None:
            params.solution_limit = solution_limit
        params.log_search = log
        # Granular neighbourhoods on large problems only: there a full O(n^2) operator pass
        # can run far past the time limit (OR-Tools checks it between moves, not inside a
        # pass); on small ones they cost a lot of quality (Solomon at 10 s: +5.7 % mean gap
        # on C103/R112/RC208/RC101 with full neighbourhoods, +58 % with 40 neighbours).
        n = len(self.stop_nodes)
        if n > GRANULAR_ABOVE:
            params.ls_operator_neighbors_ratio = NEIGHBOURS / n
            params.ls_operator_min_neighbors = NEIGHBOURS
        t0 = time.perf_counter()
        self._deadline = t0 + time_limit
        self._read_out_of_time = False
        routing.CloseModelWithParameters(params)
        self._apply_locks()

        stats: dict[str, object] = {"build_seconds": round(self.build_seconds, 3)}
        assignment = None
        if initial_routes is not None:
            routes = [
                self._indices(vi, initial_routes.get(vi, ()))
                for vi in range(len(self.problem.vehicles))
            ]
            t_read = time.perf_counter()
            start = self._read(routes)
            if start is None and repair and not self._read_out_of_time:
                # Route by route, asking OR-Tools (exact, but slow with breaks: the caller
                # repairs a relaxed seed with routing._repair first).
                routes, removed = self._repaired(routes, self._feasible)
                start = None if self._read_out_of_time else self._read(routes)
                if start is not None:
                    stats["warm_start_repaired"] = removed
            stats["warm_start_seconds"] = round(time.perf_counter() - t_read, 3)
            left = self._deadline - time.perf_counter()
            if start is not None:
                stats["warm_start"] = "used"
                stats["warm_start_objective"] = start.ObjectiveValue()
                if left > 0.001:
                    params.time_limit.FromMilliseconds(int(left * 1000))
                    assignment = routing.SolveFromAssignmentWithParameters(start, params)
                if assignment is None:
                    # OR-Tools read the plan back but its search could not take it as a first
                    # solution (seen on days with breaks whose routes end close to their shift's
                    # end), or no time was left; the plan stands as read, never worse than the
                    # one handed in.
                    stats["warm_start"] = "used as the plan: the search could not start from it"
                    assignment = start
            elif self._read_out_of_time:
                stats["warm_start"] = "timed out: OR-Tools could not read the routes back in time"
            else:
                stats["warm_start"] = "rejected: the given routes break a constraint"
        if assignment is None and not self._read_out_of_time:
            left = self._deadline - time.perf_counter()
            params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
            assignment = routing.SolveWithParameters(params)
        stats["search_seconds"] = round(time.perf_counter() - t0, 3)
        if initial_routes is None and self._first_at:
            stats["first_solution_seconds"] = round(self._first_at[0] - t0, 3)
        status = _STATUS.get(routing.status(), str(routing.status()))
        stats["ortools_status"] = status
        plan = None if assignment is None else self._extract(assignment, status, stats)
        if initial_routes is not None and (plan is None or self._mandatory_dropped(plan)):
            # OR-Tools has no plan in time, or one that leaves out required stops (seen: a search
            # from a read seed stopped at a first solution dropping more than the seed): the
            # routes handed in, as far as the cautious replay can drive them, may cost less.
            replayed = self._replayed(initial_routes, stats)
            if replayed is not None and (plan is None or replayed.objective < plan.objective):
                stats["warm_start"] = (
                    f"{stats.get('warm_start', 'not read')}; the routes stand as the cautious "
                    "replay scheduled them"
                )
                stats["replayed"] = True
                return replayed
        if plan is not None:
            return plan
        if self._read_out_of_time or routing.status() == _TIMEOUT:
            # Out of time before a first solution: nothing is planned, and the caller says
            # that the search, not the fleet, fell short.
            stats["timed_out"] = True
            return RawPlan((), tuple(self.stop_nodes), 0, status, stats)
        raise SolverError(
            "OR-Tools found no solution that keeps the locked (dispatched) stops in place "
            f"within the shifts (status: {status}); check the locked "
            "prefixes and shift ends"
        )

    def _mandatory_dropped(self, plan: RawPlan) -> int:
        """How many required stops (no drop penalty) the plan leaves out."""
        return sum(1 for s in plan.dropped if self.problem.stops[s].penalty is None)

    def _replayed(
        self, initial_routes: Mapping[int, Sequence[int]], stats: dict[str, object]
    ) -> RawPlan | None:
        """The routes handed in, each cut to what the cautious replay (:mod:`routing._replay`)
        can drive and timed by it, as a plan; ``None`` with locked prefixes (their late service
        is a cost in the model, not something the replay knows).

        The replay accepts only what OR-Tools accepts, so the plan keeps every constraint; it
        stands when OR-Tools could not read the routes back in time. Reloads are left out (the
        replay knows one trip): such a route is replayed as one trip and cut to what it holds.
        The objective is the model's: fixed, distance and duration costs, drop penalties.
        """
        problem = self.problem
        if any(v.locked for v in problem.vehicles):
            return None
        paired = frozenset(pd.delivery for pd in problem.shipments)
        partner: dict[int, int] = {}
        for pd in problem.shipments:
            p, d = problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)
            partner[p], partner[d] = d, p
        routes: list[RawRoute] = []
        served: set[int] = set()
        objective = 0
        for vi, plain in sorted(initial_routes.items()):
            vehicle = problem.vehicles[vi]
            seq = [
                s
                for s in plain
                if location_of(s) is None
                and s in self.node_of_stop
                and s not in served
                and vi in self.allowed[s]
            ]

            def fits(route: Sequence[int], vehicle: Vehicle = vehicle) -> bool:
                stops = [problem.stops[s] for s in route]
                return timing(problem, vehicle, stops, paired) is not None

            kept = cut(seq, fits, partner)
            if not kept:
                continue
            when = timing(problem, vehicle, [problem.stops[s] for s in kept], paired)
            if when is None:  # cut() keeps only what fits; never reached
                continue
            served.update(kept)
            routes.append(RawRoute(vi, tuple(kept), when.starts, when.start, when.end, when.breaks))
            objective += self._route_cost(vi, kept, when.end - when.start)
        dropped = tuple(s for s in self.stop_nodes if s not in served)
        for s in dropped:
            stop = problem.stops[s]
            objective += (
                self.mandatory_penalty
                if stop.penalty is None
                else round(stop.penalty * COST_SCALE * (1 + stop.priority))
            )
        return RawPlan(tuple(routes), dropped, objective, "replayed", stats)

    def _route_cost(self, vi: int, route: Sequence[int], duration: int) -> int:
        """The model's cost of one route (objective units): fixed, per metre, per second."""
        vehicle = self.problem.vehicles[vi]
        vt = self.problem.vehicle_type(vehicle.type)
        m = self.problem.matrices[vt.profile].distances
        path = [vehicle.start, *(self.problem.stops[s].location for s in route)]
        cost = sum(
            round(int(m[a, b]) * vt.cost_per_km * COST_SCALE / 1000.0)
            for a, b in itertools.pairwise(path)
        )
        if vehicle.end is not None:
            cost += round(int(m[path[-1], vehicle.end]) * vt.cost_per_km * COST_SCALE / 1000.0)
        span = round(vt.cost_per_hour * COST_SCALE / 3600.0) * duration
        return round(vt.fixed_cost * COST_SCALE) + cost + span

    def accepts(self, routes: Mapping[int, Sequence[int]], *, time_limit: float = 5.0) -> bool:
        """Whether OR-Tools takes these routes (vehicle index -> stop indices) as a solution.

        Closes the model (with ``time_limit`` seconds for the check; closing again is a no-op
        in OR-Tools); for tests and diagnostics.
        """
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
        self.routing.CloseModelWithParameters(params)
        self._deadline = time.perf_counter() + time_limit
        self._read_out_of_time = False
        indexed = [
            self._indices(vi, routes.get(vi, ())) for vi in range(len(self.problem.vehicles))
        ]
        return self._read(indexed) is not None

    def _feasible(self, vehicle: int, route: Sequence[int]) -> bool:
        """Whether the vehicle alone can drive this route (routing indices) in this model."""
        routes: list[list[int]] = [[] for _ in self.problem.vehicles]
        routes[vehicle] = list(route)
        return self._read(routes) is not None

    def _repaired(
        self, routes: Sequence[Sequence[int]], fits: Callable[[int, Sequence[int]], bool]
    ) -> tuple[list[list[int]], int]:
        """Each route cut down (:func:`routing._repair.cut`) to what ``fits`` accepts, and how
        many stops were taken out. Every constraint binds a single route, so routes checked
        one by one stay feasible together."""
        partner: dict[int, int] = {}
        for pd in self.problem.shipments:
            p, d = self.problem.stop_index(pd.pickup), self.problem.stop_index(pd.delivery)
            if p in self.node_of_stop and d in self.node_of_stop:
                pi, di = self._index_of_stop(p), self._index_of_stop(d)
                partner[pi], partner[di] = di, pi
        out = [
            cut(list(route), functools.partial(fits, vi), partner) if route else []
            for vi, route in enumerate(routes)
        ]
        return out, sum(len(a) - len(b) for a, b in zip(routes, out, strict=True))

    def _extract(self, sol: pywrapcp.Assignment, status: str, stats: dict[str, object]) -> RawPlan:
        routing, manager, time_dim = self.routing, self.manager, self.time_dim
        routes: list[RawRoute] = []
        for vi in range(len(self.problem.vehicles)):
            idx = routing.Start(vi)
            start_time = sol.Value(time_dim.CumulVar(idx))
            idx = sol.Value(routing.NextVar(idx))
            seq: list[int] = []
            starts: list[int] = []
            reloads: list[tuple[int, int, int]] = []
            while not routing.IsEnd(idx):
                node = manager.IndexToNode(idx)
                if node >= self.first_reload:
                    _, place = self.reload_nodes[node - self.first_reload]
                    reloads.append((len(seq), place, sol.Value(time_dim.CumulVar(idx))))
                else:
                    seq.append(self.stop_nodes[node])
                    starts.append(sol.Value(time_dim.CumulVar(idx)))
                idx = sol.Value(routing.NextVar(idx))
            if not seq:
                continue
            # A reload after the last stop loads nothing (free to skip, so rare): left out.
            reloads = [r for r in reloads if r[0] < len(seq)]
            end_time = sol.Value(time_dim.CumulVar(idx))
            breaks = tuple(
                (sol.StartValue(iv), iv.DurationMin())
                for iv in self.break_intervals.get(vi, [])
                if sol.PerformedValue(iv)
            )
            routes.append(
                RawRoute(
                    vi, tuple(seq), tuple(starts), start_time, end_time, breaks, tuple(reloads)
                )
            )
        dropped = tuple(
            s
            for node, s in enumerate(self.stop_nodes)
            if sol.Value(routing.NextVar(manager.NodeToIndex(node))) == manager.NodeToIndex(node)
        )
        return RawPlan(tuple(routes), dropped, sol.ObjectiveValue(), status, stats)
