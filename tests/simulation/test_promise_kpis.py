"""Promises in the twin: what the customer confirmed is recorded, kept only at the promised place
inside the promised window, missed ones broken down with minutes late, notices counted only
before the window, and the summary's promise figures with their intervals."""

from __future__ import annotations

import dataclasses
import math

import pytest

from simulation.kpis import promise_kpis, replication_kpis, summarise
from simulation.scenario import Scenario
from simulation.twin import OrderState, Status, Twin
from simulation.twin.promises import (
    CUSTOMERS_MISSES,
    Outcome,
    Promise,
    minutes_late,
    notify,
    outcome,
)
from simulation.world import HOUR_S


@pytest.fixture(scope="module")
def ran() -> Twin:
    """The tiny scenario over two days, run (module-wide: the tests only read it)."""
    from tests.simulation.conftest import tiny_dict

    twin = Twin(Scenario.from_dict(tiny_dict(days=2)))
    twin.run()
    return twin


def _order(twin: Twin, **fields: object) -> OrderState:
    """A copy of the twin's first order with ``fields`` changed, promised home 10:00-12:00."""
    base = twin.orders[0]
    clean: dict[str, object] = {"first_attempt_ok": None, "first_attempt_at": None,
                                "first_attempt_place": None, "rescheduled": False}  # fmt: skip
    state = dataclasses.replace(base, notices=[], **{**clean, **fields})  # type: ignore[arg-type]  # test values
    state.promise = Promise(0, "home", (10 * HOUR_S, 12 * HOUR_S))
    return state


def test_every_order_records_what_its_customer_confirmed(ran: Twin) -> None:
    assert ran.orders and all(o.promise is not None for o in ran.orders)
    for o in ran.orders:
        assert o.promise is not None
        # Not redelivered: the order still has the day, place and window it was promised.
        if not o.redelivery:
            assert (o.promise.day, o.promise.place, o.promise.window) == (o.day, o.place, o.window)


def test_on_time_orders_kept_their_promise_and_kept_ones_were_inside_it(ran: Twin) -> None:
    for o in ran.orders:
        if o.on_time:
            assert outcome(o) is Outcome.KEPT
        if outcome(o) is Outcome.KEPT:
            assert o.promise is not None and o.delivered_at is not None
            assert o.promise.window[0] <= o.delivered_at <= o.promise.window[1]
            assert o.place == o.promise.place and o.delivered_by != "locker"


@pytest.mark.parametrize(
    ("fields", "expected", "late_min"),
    [
        # Handed over at home at 11:00: kept.
        ({"status": Status.DELIVERED, "delivered_at": 11 * HOUR_S, "delivered_by": "van",
          "place": "home"}, Outcome.KEPT, 0.0),
        # At home, 25 minutes after the window closed: late.
        ({"status": Status.DELIVERED, "delivered_at": 12 * HOUR_S + 1500, "delivered_by": "van",
          "place": "home"}, Outcome.LATE, 25.0),
        # Before the window opened: early.
        ({"status": Status.DELIVERED, "delivered_at": 9 * HOUR_S, "delivered_by": "van",
          "place": "home"}, Outcome.EARLY, 0.0),
        # Inside the window but at the office the second attempt chose: elsewhere.
        ({"status": Status.DELIVERED, "delivered_at": 11 * HOUR_S, "delivered_by": "van",
          "place": "office"}, Outcome.ELSEWHERE, 0.0),
        # The hub's locker is not the promised place.
        ({"status": Status.DELIVERED, "delivered_at": 11 * HOUR_S, "delivered_by": "locker",
          "place": "home"}, Outcome.ELSEWHERE, 0.0),
        # Back to the sender.
        ({"status": Status.FAILED, "delivered_at": None, "delivered_by": None, "place": "home"},
         Outcome.UNDELIVERED, None),
        # At home at 11:00, nobody there, back to the sender: the customer was absent.
        ({"status": Status.FAILED, "delivered_at": None, "delivered_by": None, "place": "home",
          "first_attempt_ok": False, "first_attempt_at": 11 * HOUR_S,
          "first_attempt_place": "home"}, Outcome.ABSENT, None),
        # Absent at an attempt after the window: the vehicle was late, not the customer.
        ({"status": Status.FAILED, "delivered_at": None, "delivered_by": None, "place": "home",
          "first_attempt_ok": False, "first_attempt_at": 12 * HOUR_S + 60,
          "first_attempt_place": "home"}, Outcome.UNDELIVERED, None),
        # Told the ETA, the customer chose the evening: rescheduled.
        ({"status": Status.DELIVERED, "delivered_at": 18 * HOUR_S, "delivered_by": "van",
          "place": "home", "rescheduled": True}, Outcome.RESCHEDULED, 360.0),
    ],
)  # fmt: skip
def test_outcome_of_a_promise(
    ran: Twin, fields: dict[str, object], expected: Outcome, late_min: float | None
) -> None:
    state = _order(ran, **fields)
    assert outcome(state) is expected
    assert minutes_late(state) == late_min


def test_a_notice_counts_only_before_the_window_opens(ran: Twin) -> None:
    state = _order(ran)
    assert notify(state, 9 * HOUR_S).before_window_start
    assert not notify(state, 10 * HOUR_S).before_window_start
    assert [n.order for n in state.notices] == [state.spec.index] * 2
    unrecorded = dataclasses.replace(ran.orders[0], promise=None, notices=[])
    with pytest.raises(ValueError, match="record it first"):
        notify(unrecorded, 0)


def test_replication_counts_promises_and_no_notice_is_sent_today(ran: Twin) -> None:
    kpis = replication_kpis(ran)
    p = kpis.promises
    assert p is not None
    assert p.promised == sum(o.promise is not None and o.promise.day < 2 for o in ran.orders)
    parts = (p.kept, p.late, p.early, p.elsewhere, p.undelivered, p.absent, p.rescheduled)
    assert sum(parts) == p.promised
    assert p.kept_share == pytest.approx(p.kept / p.promised, abs=1e-6)
    assert p.on_time_at_place_share == pytest.approx(
        (p.kept + p.absent + p.rescheduled) / p.promised, abs=1e-6
    )
    assert p.kept >= sum(o.on_time for o in ran.orders)
    missed = p.promised - p.kept
    assert missed > 0  # tiny's noise makes some miss
    assert p.rescheduled == 0  # nobody is asked before the vehicle sets out today
    assert p.system_missed == missed - p.absent
    assert p.notices == 0 and p.announced_before_miss == 0
    if p.system_missed:
        assert p.announced_before_miss_share == 0.0
    else:  # the customers' misses only: nothing the system should have announced
        assert math.isnan(p.announced_before_miss_share)
    assert p.cost_per_kept == pytest.approx(kpis.cost_eur / p.kept, rel=1e-5)
    assert sum(t.promised for t in p.per_type) == sum(
        o.first_type is not None for o in ran.orders if o.promise and o.promise.day < 2
    )
    if p.late:
        assert 0 < p.late_p50_min <= p.late_p90_min <= p.late_max_min
    else:
        assert math.isnan(p.late_max_min)


def test_a_notice_before_the_window_of_a_missed_promise_is_counted(tiny: Scenario) -> None:
    # Travel noise forced high: the system misses some promises (not only absent customers).
    twin = Twin(tiny.with_changes({"days": 2, "noise.travel_sigma": 1.2}))
    twin.run()
    missed = [
        o
        for o in twin.orders
        if o.promise and o.promise.day < 2 and outcome(o) not in {"kept", *CUSTOMERS_MISSES}
    ]
    assert len(missed) >= 2
    first, second = missed[0], missed[1]
    assert first.promise is not None and second.promise is not None
    notify(first, first.promise.window[0] - 600)  # ten minutes before the window
    notify(second, second.promise.window[0] + 60)  # too late to count
    costs = {t.vehicle_type: t.cost_eur for t in replication_kpis(twin).per_type}
    p = promise_kpis(twin, sum(costs.values()), costs)
    assert p.notices == 2 and p.announced_before_miss == 1
    assert p.announced_before_miss_share == pytest.approx(1 / len(missed), abs=1e-6)


def test_summary_has_the_promise_figures_with_intervals(ran: Twin) -> None:
    kpis = replication_kpis(ran)
    assert kpis.promises is not None
    overall, per_type = summarise([kpis, kpis])
    kept = overall["promises_kept_share"]
    assert kept.mean == kpis.promises.kept_share
    assert 0 <= kept.low <= kept.high <= 1
    for key in ("promises_late_p90_min", "promises_announced_before_miss_share",
                "promises_cost_per_kept", "promises_notices"):  # fmt: skip
        assert key in overall
    van = per_type["van"]
    assert 0 <= van["promises_kept_share"].mean <= 1
    assert van["promises_cost_per_kept"].mean >= van["cost_per_parcel"].mean


def test_the_report_has_a_promises_table(tiny: Scenario) -> None:
    from simulation.plots import html_report
    from simulation.sweep import grid, sweep

    points = grid(tiny, {"fleet.couriers.size": [0, 4]})
    page = html_report(sweep(points, workers=1, progress=False))
    promises = page.split("<h2>Promises</h2>")[1].split("<h2>")[0]
    for heading in ("Promises kept (share)", "Late promises, 90th percentile (min)",
                    "Misses by the system announced before the window (share)",
                    "On time at the promised place (share)", "Cost per promise kept (EUR)",
                    "van: kept (share)", "van: EUR per promise kept"):  # fmt: skip
        assert heading in promises, heading
    key_figures = page.split("<h2>Scenarios</h2>")[1].split("<h2>")[0]
    assert "Promises kept" not in key_figures  # in their own table, not twice
