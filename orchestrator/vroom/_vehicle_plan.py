"""How each VROOM vehicle becomes the engine's: its matrix, costs, limits, shift and breaks.

Private to :mod:`orchestrator.vroom`: :mod:`~orchestrator.vroom.problem` builds the engine's
vehicles from these plans and :mod:`~orchestrator.vroom.output` prices the routes with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestrator.vroom.model import VroomBreak, VroomProblem, VroomVehicle

__all__ = ["VehiclePlan", "vehicle_plans"]

_COST_SLOT_SCALE = 100
"""Slot units per unit of cost when travel cost mixes time and distance (keeps 2 decimals)."""


@dataclass(frozen=True, slots=True, eq=False)
class VehiclePlan:
    """How one VROOM vehicle becomes a lastmile vehicle type and vehicle."""

    vehicle: VroomVehicle
    matrix_key: tuple[object, ...]
    slot: np.ndarray
    durations: np.ndarray
    cost_per_km: float
    cost_per_hour: float
    range_m: int | None
    max_shift: int | None
    shift: tuple[int, int]
    breaks: tuple[tuple[VroomBreak, int, int], ...]
    usable: bool


def _durations(vp: VroomProblem, v: VroomVehicle) -> np.ndarray:
    """The vehicle's travel times in seconds, its ``speed_factor`` applied."""
    d = vp.matrices[v.profile].durations
    if v.speed_factor == 1.0:
        return d
    return np.rint(d / v.speed_factor).astype(np.int64)


def _horizon(vp: VroomProblem) -> int:
    """A shift end late enough for any schedule of a vehicle without ``time_window``."""
    ends = [86_400]
    ends += [w[1] for t in vp.tasks for w in t.time_windows]
    ends += [v.time_window[1] for v in vp.vehicles if v.time_window]
    ends += [w[1] for v in vp.vehicles for b in v.breaks for w in b.time_windows]
    longest = max(int(_durations(vp, v).max(initial=0)) for v in vp.vehicles)
    work = sum(t.setup + t.service for t in vp.tasks)
    pauses = max((sum(b.service for b in v.breaks) for v in vp.vehicles), default=0)
    return max(ends) + work + pauses + (len(vp.tasks) + 2) * longest


def vehicle_plans(vp: VroomProblem) -> tuple[list[VehiclePlan], list[str]]:
    """Decide, per vehicle, the engine's matrix, costs, limits, shift and breaks."""
    notes: list[str] = []
    horizon = _horizon(vp)
    plans = []
    for v in vp.vehicles:
        m = vp.matrices[v.profile]
        dur = _durations(vp, v)
        range_m: int | None = None
        max_shift: int | None = None
        cost_per_hour = 0.0
        if v.max_distance is not None:
            assert m.distances is not None  # checked by parse_vroom
            slot, cost_per_km = m.distances, float(v.per_km)
            cost_per_hour, range_m, max_shift = float(v.per_hour), v.max_distance, v.max_travel_time
            key: tuple[object, ...] = (v.profile, v.speed_factor, "distances")
            notes.append(
                f"{v.path}.max_distance: the objective of this vehicle becomes per_km on distance "
                "plus per_hour on the whole route duration (waiting and service included)"
            )
        elif m.costs is not None:
            slot, cost_per_km, max_shift = m.costs, 1000.0, v.max_travel_time
            key = (v.profile, v.speed_factor, "costs")
        elif v.per_km == 0:
            slot, cost_per_km, range_m = dur, v.per_hour / 3.6, v.max_travel_time
            key = (v.profile, v.speed_factor, "durations")
        else:
            assert m.distances is not None  # checked by parse_vroom
            mixed = v.per_hour * dur / 3600.0 + v.per_km * m.distances / 1000.0
            slot = np.rint(mixed * _COST_SLOT_SCALE).astype(np.int64)
            cost_per_km, max_shift = 1000.0 / _COST_SLOT_SCALE, v.max_travel_time
            key = (v.profile, v.speed_factor, "mixed", v.per_hour, v.per_km)
        if max_shift is not None:
            notes.append(
                f"{v.path}.max_travel_time: bounds the whole route duration (service and "
                "waiting included) for this vehicle, stricter than VROOM"
            )
        shift = v.time_window or (0, horizon)
        usable = range_m != 0 and max_shift != 0
        breaks: list[tuple[VroomBreak, int, int]] = []
        for k, b in enumerate(v.breaks):
            if b.service == 0:
                notes.append(f"{v.path}.breaks[{k}]: service 0 constrains nothing, left out")
                continue
            fits = [
                (lo, hi)
                for w0, w1 in b.time_windows
                if (lo := max(w0, shift[0])) <= (hi := min(w1, shift[1] - b.service))
            ]
            if not fits:
                notes.append(
                    f"{v.path}.breaks[{k}]: no time window fits inside the vehicle's time_window; "
                    f"vehicle {v.id} gets no route"
                )
                usable = False
                continue
            if len(b.time_windows) > 1:
                notes.append(
                    f"{v.path}.breaks[{k}]: only the first window that fits, "
                    f"[{fits[0][0]}, {fits[0][1]}], is used"
                )
            breaks.append((b, *fits[0]))
        start = v.start
        drive = 0 if start is None or v.end is None else int(dur[start, v.end])
        reach = 0 if start is None or v.end is None else int(slot[start, v.end])
        need = drive + sum(b.service for b, _, _ in breaks)
        if usable and (
            need > shift[1] - shift[0]
            or (max_shift is not None and need > max_shift)
            or (range_m is not None and reach > range_m)
        ):
            usable = False
        if usable and max_shift is not None and breaks:
            earliest_end = max(lo + b.service for b, lo, _ in breaks)
            latest_start = min(hi for _, _, hi in breaks)
            usable = earliest_end - latest_start <= max_shift
        if not usable and not any(f"vehicle {v.id} gets no route" in n for n in notes):
            notes.append(
                f"{v.path}: cannot drive from its start to its end and take its breaks within "
                f"its time_window, max_travel_time or max_distance; vehicle {v.id} gets no route"
            )
        plans.append(
            VehiclePlan(
                vehicle=v,
                matrix_key=key,
                slot=slot,
                durations=dur,
                cost_per_km=cost_per_km,
                cost_per_hour=cost_per_hour,
                range_m=range_m,
                max_shift=max_shift,
                shift=shift,
                breaks=tuple(breaks),
                usable=usable,
            )
        )
    return plans, notes
