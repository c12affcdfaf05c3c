"""The inner loop of :meth:`routing.insertion.Timeline.best_insertions`, compiled.

Every position of every route is tried for every window of the candidate; in numpy that is a
few dozen whole-array passes per call, whose fixed cost dominates on days of a few thousand
stops. One compiled pass over the positions, trying each window in turn, does the same
arithmetic in the same order (integer times; the cost as ``distance / 1000 * per_km + fixed``
plus ``duration / 3600 * per_hour``, no fused multiply-add) and keeps, per window, the first
cheapest position — the one ``numpy.argmin`` would pick.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["scan"]


@njit(cache=True, nogil=True)
def scan(
    route: np.ndarray,
    prev_node: np.ndarray,
    next_node: np.ndarray,
    departure: np.ndarray,
    gap: np.ndarray,
    next_start: np.ndarray,
    next_earliest: np.ndarray,
    next_slack: np.ndarray,
    wait_after_next: np.ndarray,
    leg_distance: np.ndarray,
    last_edge_open: np.ndarray,
    peak: np.ndarray,
    allowed: np.ndarray,
    route_type: np.ndarray,
    capacity: np.ndarray,
    distance: np.ndarray,
    range_m: np.ndarray,
    idle: np.ndarray,
    type_ok: np.ndarray,
    cost_km: np.ndarray,
    cost_h: np.ndarray,
    fixed: np.ndarray,
    to_distance: np.ndarray,
    to_duration: np.ndarray,
    from_distance: np.ndarray,
    from_duration: np.ndarray,
    service: int,
    demand: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    out_edge: np.ndarray,
    out_eta: np.ndarray,
    out_cost: np.ndarray,
    out_duration: np.ndarray,
    out_distance: np.ndarray,
) -> int:
    """Fill ``out_*`` per window (edge -1 when none fits); return how far candidates got:
    0 no eligible route, 1 none with room, 2 none within range, 3 some within range."""
    windows = w_start.shape[0]
    dims = demand.shape[0]
    for w in range(windows):
        out_edge[w] = -1
        out_cost[w] = np.inf
    reached = 0
    for e in range(route.shape[0]):
        if not allowed[e]:
            continue
        r = route[e]
        t = route_type[r]
        if not type_ok[t]:
            continue
        reached = max(reached, 1)
        fits = True
        for d in range(dims):
            if peak[e, d] + demand[d] > capacity[r, d]:
                fits = False
                break
        if not fits:
            continue
        reached = max(reached, 2)
        p = prev_node[e]
        n = next_node[e]
        d_in = to_distance[p]
        t_in = to_duration[p]
        if last_edge_open[e]:
            d_out = 0
            t_out = 0
        else:
            d_out = from_distance[n]
            t_out = from_duration[n]
        added = d_in + d_out - leg_distance[e]
        if distance[r] + added > range_m[r]:
            continue
        reached = 3
        is_idle = idle[r]
        distance_cost = added / 1000.0 * cost_km[t] + (fixed[t] if is_idle else 0.0)
        per_hour = cost_h[t]
        arrive_new = departure[e] + t_in
        for w in range(windows):
            start_new = max(arrive_new, w_start[w])
            if start_new > w_end[w]:
                continue
            start_next = max(start_new + service + t_out + gap[e], next_earliest[e])
            push = max(start_next - next_start[e], 0)
            if push > next_slack[e]:
                continue
            # An idle vehicle leaves just in time: it adds the trip there and back.
            duration = t_in + service + t_out if is_idle else max(push - wait_after_next[e], 0)
            cost = distance_cost + duration / 3600.0 * per_hour
            if cost < out_cost[w]:
                out_cost[w] = cost
                out_edge[w] = e
                out_eta[w] = start_new
                out_duration[w] = duration
                out_distance[w] = added
    return reached
