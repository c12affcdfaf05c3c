"""An independent feasibility checker for benchmark solutions.

It trusts nothing a solver reports: given an :class:`~benchmarks.instances.Instance` (its own
integer matrix, demands, windows, service times, capacity and fleet size) and the routes as
customer-number sequences, it replays every route and recomputes the total distance. So a
solver bug in distance accounting, a dropped customer or a late arrival shows up here even
when the solver's own statistics look fine.

Rules (the VRPTW/CVRP benchmark rules, with waiting allowed):

* every customer ``1..n`` is on exactly one route; the depot (0) never appears inside a route;
* a route's total demand is at most the capacity;
* a route leaves the depot at the depot's ready time; at each customer, service starts at
  ``max(arrival, ready)`` and must start no later than ``due``; it leaves after the service
  time; it must be back at the depot no later than the depot's due time;
* at most ``fleet`` non-empty routes.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.instances import Instance

__all__ = ["CheckResult", "check"]

_MAX_LISTED = 20
"""Violations listed one by one before the rest is summarised (a broken run can have 1000s)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of :func:`check`.

    Parameters
    ----------
    distance
        Total distance of the routes on the instance's matrix (matrix units), whatever the
        violations.
    routes
        Number of non-empty routes (vehicles used).
    violations
        One sentence per broken rule; empty when the solution is feasible.
    """

    distance: int
    routes: int
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """Whether no rule is broken."""
        return not self.violations


def check(instance: Instance, routes: Sequence[Sequence[int]]) -> CheckResult:
    """Replay ``routes`` on ``instance`` and list every violated rule.

    Parameters
    ----------
    instance
        The instance; only its own arrays are used.
    routes
        One sequence of customer numbers (``1..n``, depot excluded) per vehicle, in visiting
        order. Empty routes are ignored.
    """
    n = instance.customers
    matrix = instance.matrix
    violations: list[str] = []
    total = 0
    used = [list(map(int, r)) for r in routes if len(r) > 0]

    seen: Counter[int] = Counter()
    for k, route in enumerate(used):
        bad = [c for c in route if not 1 <= c <= n]
        if bad:
            violations.append(f"route {k}: node(s) {bad} are not customers 1..{n}")
            continue
        seen.update(route)
        total += _route_distance(matrix, route)
        load = int(instance.demand[route].sum())
        if load > instance.capacity:
            violations.append(f"route {k}: load {load} exceeds capacity {instance.capacity}")
        violations.extend(_time_violations(instance, k, route))

    duplicates = sorted(c for c, times in seen.items() if times > 1)
    if duplicates:
        violations.append(f"customer(s) served more than once: {_short(duplicates)}")
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        violations.append(f"{len(missing)} customer(s) not served: {_short(missing)}")
    if len(used) > instance.fleet:
        violations.append(f"{len(used)} routes but the fleet has {instance.fleet} vehicles")
    if len(violations) > _MAX_LISTED:
        extra = len(violations) - _MAX_LISTED
        violations = [*violations[:_MAX_LISTED], f"... and {extra} more violation(s)"]
    return CheckResult(distance=total, routes=len(used), violations=tuple(violations))


def _route_distance(matrix: np.ndarray, route: Sequence[int]) -> int:
    path = [0, *route, 0]
    return sum(int(matrix[a, b]) for a, b in itertools.pairwise(path))


def _time_violations(instance: Instance, k: int, route: Sequence[int]) -> list[str]:
    # Travel time equals the arc distance in both benchmark families.
    out: list[str] = []
    t = int(instance.ready[0])
    prev = 0
    for c in route:
        arrival = t + int(instance.matrix[prev, c])
        start = max(arrival, int(instance.ready[c]))
        if start > int(instance.due[c]):
            out.append(
                f"route {k}: customer {c} served from {start}, after its due time "
                f"{int(instance.due[c])}"
            )
        t = start + int(instance.service[c])
        prev = c
    back = t + int(instance.matrix[prev, 0])
    if back > int(instance.due[0]):
        out.append(f"route {k}: back at the depot at {back}, after its due time {instance.due[0]}")
    return out


def _short(values: Sequence[int]) -> str:
    shown = ", ".join(map(str, values[:10]))
    return shown + (f", ... ({len(values)} in all)" if len(values) > 10 else "")
