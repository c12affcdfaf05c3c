"""Tests of orchestrator.concierge.consolidation: deferring within the accepted wait to group
drops."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.concierge.consolidation import Deferrable, consolidate
from orchestrator.errors import InvalidInput

MON = date(2026, 11, 23)


def test_waits_for_the_day_the_street_is_served() -> None:
    """Three neighbours fixed on Wednesday; a flexible order on Monday with a two-day wait goes
    on Wednesday; one with a one-day wait cannot reach it and stays on Monday."""
    street = [
        Deferrable(f"n{i}", 60.170, 24.940 + i * 0.001, MON + timedelta(days=2)) for i in range(3)
    ]
    patient = Deferrable("patient", 60.1705, 24.941, MON, max_wait_days=2)
    hasty = Deferrable("hasty", 60.1705, 24.942, MON, max_wait_days=1)
    by_key = {p.key: p for p in consolidate([*street, patient, hasty])}
    assert by_key["patient"].day == MON + timedelta(days=2)
    assert by_key["patient"].waited_days == 2
    assert by_key["patient"].neighbours >= 3
    assert by_key["hasty"].day in (MON, MON + timedelta(days=1))


def test_nobody_waits_for_nothing() -> None:
    """With no neighbours anywhere, a flexible order goes on its earliest day."""
    (p,) = consolidate([Deferrable("alone", 60.17, 24.94, MON, max_wait_days=3)])
    assert p.day == MON and p.waited_days == 0


def test_flexible_orders_group_with_each_other() -> None:
    """Two flexible neighbours with overlapping ranges end up on the same day."""
    a = Deferrable("a", 60.17, 24.94, MON, max_wait_days=1)
    b = Deferrable("b", 60.17, 24.941, MON + timedelta(days=1), max_wait_days=2)
    pa, pb = consolidate([a, b])
    assert pa.day == pb.day


def test_bad_input() -> None:
    """Repeated keys, negative waits and a zero radius are refused with the field."""
    with pytest.raises(InvalidInput, match="unique"):
        consolidate([Deferrable("x", 60, 24, MON), Deferrable("x", 60, 24, MON)])
    with pytest.raises(InvalidInput) as info:
        Deferrable("x", 60, 24, MON, max_wait_days=-1)
    assert info.value.field == ("orders", "x", "max_wait_days")
    with pytest.raises(InvalidInput, match="radius"):
        consolidate([], radius_m=0)


orders = st.lists(
    st.tuples(
        st.floats(60.15, 60.19), st.floats(24.90, 24.98), st.integers(0, 5), st.integers(0, 3)
    ),
    max_size=25,
)


@given(orders)
def test_every_order_within_its_accepted_wait(rows: list[tuple[float, float, int, int]]) -> None:
    """Each order is placed once, never before its earliest day nor past its accepted wait,
    and orders that accept no wait keep their day."""
    given_orders = [
        Deferrable(f"o{i}", lat, lon, MON + timedelta(days=d), w)
        for i, (lat, lon, d, w) in enumerate(rows)
    ]
    placed = consolidate(given_orders)
    assert [p.key for p in placed] == [o.key for o in given_orders]
    for o, p in zip(given_orders, placed, strict=True):
        assert 0 <= p.waited_days <= o.max_wait_days
        assert p.day == o.earliest + timedelta(days=p.waited_days)
