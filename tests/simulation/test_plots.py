"""Plots and the HTML report of a sweep."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from simulation.plots import html_report, pareto_front
from simulation.scenario import Scenario
from simulation.sweep import grid, sweep


def test_pareto_front_of_a_known_set() -> None:
    points = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0), (math.nan, 0.0)]
    assert pareto_front(points) == [0, 1, 3]


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), min_size=1, max_size=20))
def test_no_point_beats_a_front_point(points: list[tuple[float, float]]) -> None:
    front = pareto_front(points)
    assert front
    for i in front:
        assert not any(
            p[0] <= points[i][0] and p[1] <= points[i][1] and p != points[i] for p in points
        )


def test_html_report_is_self_contained(tiny: Scenario) -> None:
    result = sweep(grid(tiny, {"policies.concierge": [True, False]}), progress=False)
    page = html_report(result, title="tiny <sweep>")
    assert page.count("data:image/png;base64,") == 3
    assert "tiny &lt;sweep&gt;" in page
    assert "concierge=False" in page
    assert "src='http" not in page and "<link" not in page  # nothing to fetch


def test_html_report_shows_paired_differences_against_the_first_point(tiny: Scenario) -> None:
    result = sweep(grid(tiny, {"fleet.couriers.size": [0, 4]}), progress=False)
    page = html_report(result)
    assert "<h2>Against size=0</h2>" in page
    d = result.difference("cost_per_parcel", 1)
    assert f"<td>{d.mean:+.3g}" in page  # one replication: the difference without an interval
    alone = html_report(sweep(grid(tiny, {}), progress=False))
    assert "Against" not in alone
