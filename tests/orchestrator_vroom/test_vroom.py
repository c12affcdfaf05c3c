"""VROOM input in, VROOM output out: round trips, the supported subset, and every error path."""

from __future__ import annotations

import copy
import itertools
import json
import pickle
from typing import Any

import pytest

from orchestrator.errors import InvalidInput, OrchestratorError
from orchestrator.vroom import (
    VroomInputError,
    error_output,
    field_parts,
    parse_vroom,
    solve_vroom,
    to_problem,
)
from routing import Limits

LIMITS = Limits(time_limit=0.5, seed_with="none")
"""Tiny problems: half a second of search is plenty."""

# A line of places one minute apart: travel time between rows i and j is 60 * |i - j| s.
N = 6
LINE = [[60 * abs(i - j) for j in range(N)] for i in range(N)]
LINE_M = [[500 * abs(i - j) for j in range(N)] for i in range(N)]


def solved(payload: dict[str, Any]) -> dict[str, Any]:
    """Solve and check the invariants every VROOM answer must keep."""
    out = solve_vroom(payload, LIMITS)
    check_output(payload, out)
    return out


def check_output(payload: dict[str, Any], out: dict[str, Any]) -> None:
    """Schema present, sums consistent, times non-decreasing, loads within capacity."""
    assert out["code"] == 0
    summary, routes = out["summary"], out["routes"]
    for key in ("cost", "routes", "unassigned", "setup", "service", "duration", "waiting_time"):
        assert key in summary
    assert summary["routes"] == len(routes)
    assert summary["unassigned"] == len(out["unassigned"])
    for key in ("cost", "setup", "service", "duration", "waiting_time", "priority"):
        assert summary[key] == sum(r[key] for r in routes), key
    if "distance" in summary:
        assert summary["distance"] == sum(r["distance"] for r in routes)
    for k, total in enumerate(summary["delivery"]):
        assert total == sum(r["delivery"][k] for r in routes)
    capacities = {v["id"]: v.get("capacity") for v in payload["vehicles"]}
    served: list[tuple[str, int]] = []
    for r in routes:
        steps = r["steps"]
        arrivals = [s["arrival"] for s in steps]
        assert arrivals == sorted(arrivals), arrivals
        durations = [s["duration"] for s in steps]
        assert durations == sorted(durations)
        assert durations[-1] == r["duration"]
        for a, b in itertools.pairwise(steps):
            assert a["arrival"] + a["waiting_time"] + a["setup"] + a["service"] <= b["arrival"]
        assert r["service"] == sum(s["service"] for s in steps)
        assert r["waiting_time"] == sum(s["waiting_time"] for s in steps)
        cap = capacities[r["vehicle"]]
        for s in steps:
            assert s["type"] in {"start", "job", "pickup", "delivery", "break", "end"}
            if cap is not None:
                assert all(0 <= x <= c for x, c in zip(s["load"], cap, strict=True)), s
            if s["type"] in {"job", "pickup", "delivery"}:
                served.append((s["type"], s["id"]))
    unassigned = [(u["type"], u["id"]) for u in out["unassigned"]]
    for u in out["unassigned"]:
        assert u["reason"] and u["detail"]
    expected = [("job", j["id"]) for j in payload.get("jobs", [])]
    for s in payload.get("shipments", []):
        expected += [("pickup", s["pickup"]["id"]), ("delivery", s["delivery"]["id"])]
    assert sorted(served + unassigned) == sorted(expected)


def vehicle(**extra: Any) -> dict[str, Any]:
    """A vehicle starting and ending at row 0."""
    return {"id": 1, "start_index": 0, "end_index": 0, **extra}


def job(jid: int, row: int, **extra: Any) -> dict[str, Any]:
    """A job at matrix row ``row``."""
    return {"id": jid, "location_index": row, **extra}


@pytest.fixture
def line_problem() -> dict[str, Any]:
    """One vehicle at row 0, jobs on rows 1..5 of a line, durations and distances given."""
    return {
        "vehicles": [vehicle(capacity=[10])],
        "jobs": [job(j, j, delivery=[1], service=30) for j in range(1, N)],
        "matrices": {"car": {"durations": LINE, "distances": LINE_M}},
    }


# -- round trips -----------------------------------------------------------------------------


def test_default_cost_is_travel_duration_and_optimal_on_a_line(
    line_problem: dict[str, Any],
) -> None:
    out = solved(line_problem)
    (route,) = out["routes"]
    # Out to row 5 and back: 10 minutes of travel whatever the order of the jobs on the way.
    assert route["duration"] == 600
    assert route["cost"] == 600 == out["summary"]["cost"]
    assert route["distance"] == 5000
    assert route["service"] == 150
    assert [s["type"] for s in route["steps"]] == ["start"] + ["job"] * 5 + ["end"]
    assert route["steps"][0]["load"] == [5]
    assert route["steps"][-1]["load"] == [0]
    assert out["unassigned"] == []
    assert route["steps"][0]["location_index"] == 0


def test_ids_are_kept_as_integers(line_problem: dict[str, Any]) -> None:
    line_problem["vehicles"][0]["id"] = 42
    for k, j in enumerate(line_problem["jobs"]):
        j["id"] = 1000 + k
    out = solved(line_problem)
    assert out["routes"][0]["vehicle"] == 42
    ids = [s["id"] for s in out["routes"][0]["steps"] if s["type"] == "job"]
    assert sorted(ids) == [1000 + k for k in range(5)]


def test_job_with_two_time_windows_is_served_in_the_second() -> None:
    payload = {
        "vehicles": [vehicle()],
        # Row 3 is 180 s away: the first window [0, 100] cannot be met, the second can.
        "jobs": [job(7, 3, time_windows=[[0, 100], [500, 600]])],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    step = next(s for s in out["routes"][0]["steps"] if s["type"] == "job")
    begin = step["arrival"] + step["waiting_time"]
    assert 500 <= begin <= 600


def test_shipment_pickup_before_delivery_on_one_route() -> None:
    payload = {
        "vehicles": [vehicle(capacity=[1]), {**vehicle(capacity=[1]), "id": 2}],
        "shipments": [
            {
                "amount": [1],
                "pickup": {"id": 1, "location_index": 4, "service": 10},
                "delivery": {"id": 1, "location_index": 2, "service": 10},
            }
        ],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    (route,) = out["routes"]
    kinds = [(s["type"], s["load"]) for s in route["steps"]]
    assert kinds == [("start", [0]), ("pickup", [1]), ("delivery", [0]), ("end", [0])]
    assert route["pickup"] == [1] and route["delivery"] == [1]


def test_skills_route_tasks_to_able_vehicles_and_report_the_rest() -> None:
    payload = {
        "vehicles": [vehicle(skills=[1]), {**vehicle(), "id": 2, "skills": [2]}],
        "jobs": [job(1, 1, skills=[2]), job(2, 2, skills=[1]), job(3, 3, skills=[9])],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    served_by = {
        s["id"]: r["vehicle"] for r in out["routes"] for s in r["steps"] if s["type"] == "job"
    }
    assert served_by == {1: 2, 2: 1}
    (missing,) = out["unassigned"]
    assert missing["id"] == 3 and missing["type"] == "job"
    assert missing["reason"] == "no_vehicle_with_skills"
    assert missing["location_index"] == 3


def test_open_route_has_no_end_step_and_free_start_no_start_step() -> None:
    payload = {
        "vehicles": [{"id": 1, "start_index": 0}, {"id": 2, "end_index": 5}],
        "jobs": [job(1, 1), job(2, 4)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    for r in out["routes"]:
        kinds = [s["type"] for s in r["steps"]]
        assert kinds[0] == ("start" if r["vehicle"] == 1 else "job")
        assert kinds[-1] == ("end" if r["vehicle"] == 2 else "job")
    # Best: vehicle 1 goes 0 -> 1 (60 s), vehicle 2 starts at row 4 and drives to 5 (60 s).
    assert out["summary"]["cost"] == 120


def test_break_is_a_step_with_its_id_and_only_one_window_is_used() -> None:
    payload = {
        "vehicles": [
            vehicle(
                time_window=[0, 3600],
                breaks=[{"id": 9, "service": 300, "time_windows": [[200, 400], [1000, 1200]]}],
            )
        ],
        "jobs": [job(1, 2, service=60), job(2, 4, service=60)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    (brk,) = [s for s in out["routes"][0]["steps"] if s["type"] == "break"]
    assert brk["id"] == 9 and brk["service"] == 300
    assert 200 <= brk["arrival"] + brk["waiting_time"] <= 400
    assert any("breaks[0]" in note for note in out["notes"])


def test_coordinates_give_distances_and_a_note() -> None:
    payload = {
        "vehicles": [{"id": 1, "start": [24.94, 60.17], "end": [24.94, 60.17]}],
        "jobs": [{"id": 1, "location": [24.95, 60.18]}, {"id": 2, "location": [24.93, 60.16]}],
    }
    out = solved(payload)
    assert out["summary"]["distance"] > 0
    assert out["routes"][0]["steps"][1]["location"] in ([24.95, 60.18], [24.93, 60.16])
    assert "location_index" not in out["routes"][0]["steps"][0]
    assert any("straight-line" in note for note in out["notes"])
    # cost = travel seconds, the same as with the equivalent matrices
    assert out["summary"]["cost"] == out["summary"]["duration"]


def test_matrices_without_distances_report_no_distance(line_problem: dict[str, Any]) -> None:
    del line_problem["matrices"]["car"]["distances"]
    out = solved(line_problem)
    assert "distance" not in out["summary"]
    assert "distance" not in out["routes"][0]


def test_legacy_matrix_and_amount() -> None:
    payload = {
        "vehicles": [vehicle(capacity=[2])],
        "jobs": [job(1, 1, amount=[1]), job(2, 2, amount=[1]), job(3, 3, amount=[1])],
        "matrix": LINE,
    }
    out = solved(payload)
    assert len(out["unassigned"]) == 1
    assert out["summary"]["delivery"] == [2]


def test_priority_keeps_the_important_job() -> None:
    payload = {
        "vehicles": [vehicle(capacity=[1])],
        # Job 2 is further away, but its priority makes it the one served.
        "jobs": [job(1, 1, delivery=[1]), job(2, 5, delivery=[1], priority=10)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    assert [u["id"] for u in out["unassigned"]] == [1]
    assert out["summary"]["priority"] == 10


def test_max_tasks_caps_each_route() -> None:
    payload = {
        "vehicles": [vehicle(max_tasks=2), {**vehicle(max_tasks=2), "id": 2}],
        "jobs": [job(j, j) for j in range(1, 5)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    for r in out["routes"]:
        assert sum(s["type"] == "job" for s in r["steps"]) <= 2
    assert out["unassigned"] == []


def test_custom_costs_matrix_is_the_objective() -> None:
    costs = [[1 if i != j else 0 for j in range(N)] for i in range(N)]
    payload = {
        "vehicles": [vehicle()],
        "jobs": [job(j, j) for j in (1, 3, 5)],
        "matrices": {"car": {"durations": LINE, "costs": costs}},
    }
    out = solved(payload)
    assert out["summary"]["cost"] == 4  # four arcs of cost 1
    assert out["summary"]["duration"] == 600


def test_vehicle_costs_fixed_and_per_km(line_problem: dict[str, Any]) -> None:
    line_problem["vehicles"][0]["costs"] = {"fixed": 1000, "per_hour": 0, "per_km": 2}
    out = solved(line_problem)
    assert out["summary"]["cost"] == 1000 + 2 * 5  # 5 km driven


def test_max_travel_time_limits_the_route(line_problem: dict[str, Any]) -> None:
    line_problem["vehicles"][0]["max_travel_time"] = 360  # reaches row 3 and back at most
    out = solved(line_problem)
    assert out["routes"][0]["duration"] <= 360
    assert sorted(u["id"] for u in out["unassigned"]) == [4, 5]


def test_speed_factor_scales_travel_times(line_problem: dict[str, Any]) -> None:
    line_problem["vehicles"][0]["speed_factor"] = 2.0
    out = solved(line_problem)
    assert out["summary"]["duration"] == 300


def test_pickup_jobs_come_back_to_the_depot() -> None:
    payload = {
        "vehicles": [vehicle(capacity=[2])],
        "jobs": [job(1, 1, delivery=[2]), job(2, 2, pickup=[2], delivery=[0])],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    loads = [s["load"] for s in out["routes"][0]["steps"]]
    assert loads == [[2], [0], [2], [2]]


def test_unworkable_vehicle_gets_no_route_and_a_note() -> None:
    payload = {
        "vehicles": [
            {"id": 1, "start_index": 0, "end_index": 5, "time_window": [0, 100]},
            {"id": 2, "start_index": 0, "end_index": 0},
        ],
        "jobs": [job(1, 1)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    assert [r["vehicle"] for r in out["routes"]] == [2]
    assert any("vehicle 1 gets no route" in note for note in out["notes"])


def test_unknown_keys_are_ignored_with_a_note(line_problem: dict[str, Any]) -> None:
    line_problem["jobs"][0]["colour"] = "red"
    line_problem["vehicles"][0]["steps"] = [{"type": "start"}]
    vp = parse_vroom(line_problem)
    assert any("jobs[0].colour" in n for n in vp.notes)
    assert any("vehicles[0].steps" in n for n in vp.notes)


def test_to_problem_keeps_ids_windows_and_penalties() -> None:
    vp = parse_vroom(
        {
            "vehicles": [vehicle(capacity=[3])],
            "jobs": [job(5, 1, delivery=[1], time_windows=[[0, 10], [5, 20], [40, 50]])],
            "shipments": [
                {
                    "pickup": {"id": 5, "location_index": 2},
                    "delivery": {"id": 6, "location_index": 3},
                }
            ],
            "matrices": {"car": {"durations": LINE}},
        }
    )
    problem = to_problem(vp)
    assert [s.id for s in problem.stops] == ["job:5", "pickup:5", "delivery:6"]
    windows = problem.stop("job:5").windows
    assert [(w.start, w.end) for w in windows] == [(0, 20), (40, 50)]  # overlapping merged
    assert all(s.optional for s in problem.stops)
    assert problem.vehicles[0].id == "1"


# -- errors: every one names its field ------------------------------------------------------


def _base() -> dict[str, Any]:
    return {
        "vehicles": [vehicle(capacity=[4], breaks=[{"id": 1, "time_windows": [[0, 10]]}])],
        "jobs": [job(1, 1, delivery=[1]), job(2, 2, time_windows=[[0, 100]])],
        "shipments": [
            {"amount": [1], "pickup": job(1, 3), "delivery": job(1, 4)},
        ],
        "matrices": {"car": {"durations": LINE, "distances": LINE_M}},
    }


def _set(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    payload = _base()
    target: Any = payload
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        # the payload itself and its arrays
        ((), None, ""),
        (("vehicles",), [], "vehicles"),
        (("vehicles",), _DELETE, "vehicles"),
        (("jobs",), {"id": 1}, "jobs"),
        (("jobs", 0), 3, "jobs[0]"),
        # job fields
        (("jobs", 1, "id"), _DELETE, "jobs[1].id"),
        (("jobs", 1, "id"), 1, "jobs[1].id"),
        (("jobs", 1, "id"), "two", "jobs[1].id"),
        (("jobs", 1, "location_index"), _DELETE, "jobs[1].location_index"),
        (("jobs", 1, "location_index"), 99, "jobs[1].location_index"),
        (("jobs", 1, "service"), -5, "jobs[1].service"),
        (("jobs", 1, "service"), 1.5, "jobs[1].service"),
        (("jobs", 1, "priority"), 101, "jobs[1].priority"),
        (("jobs", 1, "time_windows"), [[0, 10], [50, 20]], "jobs[1].time_windows[1]"),
        (("jobs", 1, "time_windows"), [[0, 10], [5]], "jobs[1].time_windows[1]"),
        (("jobs", 1, "time_windows"), [], "jobs[1].time_windows"),
        (("jobs", 1, "time_windows"), [[0, True]], "jobs[1].time_windows[0][1]"),
        (("jobs", 1, "skills"), [1, -1], "jobs[1].skills[1]"),
        (("jobs", 1, "delivery"), [1, 2], "jobs[1].delivery"),
        (("jobs", 0, "delivery"), [-1], "jobs[0].delivery[0]"),
        (("jobs", 0, "amount"), [1], "jobs[0].amount"),
        (("jobs", 0, "pickup"), [1], "jobs[0]"),
        (("jobs", 0, "service_per_type"), {"van": 3}, "jobs[0].service_per_type"),
        (("jobs", 0, "description"), 7, "jobs[0].description"),
        # shipments
        (("shipments", 0, "pickup"), _DELETE, "shipments[0].pickup"),
        (
            ("shipments", 0, "delivery", "location_index"),
            -1,
            "shipments[0].delivery.location_index",
        ),
        (("shipments", 0, "amount"), [1, 1], "shipments[0].amount"),
        # vehicles
        (("vehicles", 0, "id"), _DELETE, "vehicles[0].id"),
        (("vehicles", 0), {"id": 1}, "vehicles[0].start_index"),  # neither start nor end
        (("vehicles", 0, "capacity"), [1, 2], "vehicles[0].capacity"),
        (("vehicles", 0, "time_window"), [100, 0], "vehicles[0].time_window"),
        (("vehicles", 0, "profile"), "bike", "vehicles[0].profile"),
        (("vehicles", 0, "speed_factor"), 0, "vehicles[0].speed_factor"),
        (("vehicles", 0, "max_tasks"), 3, "vehicles[0].max_tasks"),
        (("vehicles", 0, "costs"), {"per_hour": 3600.5}, "vehicles[0].costs.per_hour"),
        (("vehicles", 0, "breaks", 0, "id"), _DELETE, "vehicles[0].breaks[0].id"),
        (("vehicles", 0, "breaks", 0, "max_load"), [1], "vehicles[0].breaks[0].max_load"),
        (
            ("vehicles", 0, "breaks", 0, "time_windows"),
            _DELETE,
            "vehicles[0].breaks[0].time_windows",
        ),
        # matrices
        (("matrices", "car", "durations"), [[0, 1], [1]], "matrices.car.durations[1]"),
        (("matrices", "car", "durations"), [[0, -1], [1, 0]], "matrices.car.durations[0][1]"),
        (("matrices", "car", "durations"), _DELETE, "matrices.car.durations"),
        (("matrices", "car", "distances"), [[0]], "matrices.car.distances"),
        (("matrices", "car", "costs"), LINE, "vehicles[0].costs"),
        (("matrix",), LINE, "matrix"),
    ],
)
def test_error_names_the_field(path: tuple[Any, ...], value: Any, field: str) -> None:
    if path == ():
        payload: Any = None
    else:
        payload = _set(path, value)
    if field == "vehicles[0].costs":
        payload["vehicles"][0]["costs"] = {"per_hour": 7200}
    with pytest.raises(VroomInputError) as info:
        parse_vroom(payload)
    assert info.value.field_path == field, info.value
    assert info.value.message
    assert isinstance(info.value, ValueError)


def test_errors_for_coordinates() -> None:
    payload = {"vehicles": [{"id": 1, "start": [24.9, 60.1]}], "jobs": [{"id": 1}]}
    with pytest.raises(VroomInputError, match=r"\[lon, lat\]") as info:
        parse_vroom(payload)
    assert info.value.field_path == "jobs[0].location"
    payload["jobs"][0]["location"] = [60.1, 124.9]
    with pytest.raises(VroomInputError, match="did you give") as info:
        parse_vroom(payload)
    assert info.value.field_path == "jobs[0].location"


def test_per_km_needs_distances() -> None:
    payload = {
        "vehicles": [vehicle(costs={"per_km": 1})],
        "jobs": [job(1, 1)],
        "matrices": {"car": {"durations": LINE}},
    }
    with pytest.raises(VroomInputError) as info:
        parse_vroom(payload)
    assert info.value.field_path == "vehicles[0].costs.per_km"


def test_error_output_is_vroom_code_2() -> None:
    err = VroomInputError("jobs[3].time_windows[0]", "ends before it starts")
    assert error_output(err) == {
        "code": 2,
        "error": "jobs[3].time_windows[0]: ends before it starts",
        "field": "jobs[3].time_windows[0]",
    }


def test_input_error_is_an_orchestrator_invalid_input() -> None:
    err = VroomInputError("jobs[3].time_windows[0]", "ends before it starts")
    assert isinstance(err, InvalidInput) and isinstance(err, OrchestratorError)
    assert err.field == ("jobs", 3, "time_windows", 0)
    assert err.field_path == "jobs[3].time_windows[0]"
    assert str(err) == "jobs[3].time_windows[0]: ends before it starts"
    whole = VroomInputError("", "must be a JSON object")
    assert whole.field == () and str(whole) == "must be a JSON object"


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("", ()),
        ("vehicles", ("vehicles",)),
        ("vehicles[0].costs.per_km", ("vehicles", 0, "costs", "per_km")),
        ("matrices.car.durations[2][5]", ("matrices", "car", "durations", 2, 5)),
    ],
)
def test_field_parts(path: str, parts: tuple[str | int, ...]) -> None:
    assert field_parts(path) == parts


def test_input_error_survives_pickling() -> None:
    # Solves may run in worker processes; their errors come back through pickle.
    err = VroomInputError("shipments[1].pickup", "is missing — a shipment needs a pickup step")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is VroomInputError
    assert (back.field_path, back.field, back.message, str(back)) == (
        err.field_path,
        err.field,
        err.message,
        str(err),
    )


def test_parse_does_not_touch_the_payload(line_problem: dict[str, Any]) -> None:
    before = copy.deepcopy(line_problem)
    parse_vroom(line_problem)
    assert line_problem == before


def test_absolute_timestamps() -> None:
    day = 1_700_000_000
    payload = {
        "vehicles": [vehicle(time_window=[day, day + 36_000])],
        "jobs": [job(1, 2, time_windows=[[day + 3600, day + 7200]]), job(2, 4)],
        "matrices": {"car": {"durations": LINE}},
    }
    out = solved(payload)
    step = next(s for s in out["routes"][0]["steps"] if s["type"] == "job" and s["id"] == 1)
    assert day + 3600 <= step["arrival"] + step["waiting_time"] <= day + 7200


def test_same_schema_and_cost_as_vroom(line_problem: dict[str, Any], tmp_path: Any) -> None:
    """Against VROOM itself (pyvroom, the bench extra): every key it writes, we write too."""
    vroom = pytest.importorskip("vroom")
    line_problem["jobs"][2]["time_windows"] = [[0, 100], [400, 900]]
    line_problem["vehicles"][0]["breaks"] = [{"id": 3, "service": 60, "time_windows": [[0, 900]]}]
    path = tmp_path / "input.json"
    path.write_text(json.dumps(line_problem), encoding="utf-8")
    theirs = vroom.Input.from_json(str(path)).solve(exploration_level=5, nb_threads=1).to_dict()
    ours = solved(line_problem)
    assert ours["summary"]["cost"] <= theirs["summary"]["cost"]
    assert set(theirs) <= set(ours)
    assert set(theirs["summary"]) - {"computing_times"} <= set(ours["summary"])
    assert set(theirs["routes"][0]) - {"geometry"} <= set(ours["routes"][0])
    for kind in ("start", "job", "break", "end"):
        their_keys = {k for s in theirs["routes"][0]["steps"] if s["type"] == kind for k in s}
        our_keys = {k for s in ours["routes"][0]["steps"] if s["type"] == kind for k in s}
        assert their_keys <= our_keys, kind
