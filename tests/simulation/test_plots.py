"""Plots and the HTML report of a sweep."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.artist import Artist
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simulation.kpis import RETURN_METRICS, SUMMARY_METRICS
from simulation.plots import (
    KPI_LABELS,
    UNSERVED_REASONS,
    cost_co2_figure,
    html_report,
    on_time_figure,
    pareto_front,
    reason_text,
    utilisation_figure,
)
from simulation.scenario import Scenario
from simulation.sweep import SweepResult, grid, sweep
from tests.simulation.conftest import tiny_dict


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


# -- what the report shows (issue #18) ------------------------------------------------------


@pytest.fixture(scope="module")
def alone() -> SweepResult:
    """One tiny scenario over two days and two replications: some orders end unserved."""
    scenario = Scenario.from_dict(tiny_dict(days=2, replications=2))
    return sweep(grid(scenario, {}), progress=False)


@pytest.fixture(scope="module")
def swept() -> SweepResult:
    """A sweep of the tiny scenario over its couriers: four points."""
    scenario = Scenario.from_dict(tiny_dict())
    return sweep(grid(scenario, {"fleet.couriers.size": [0, 2, 4, 6]}), progress=False)


def _headings(page: str) -> list[str]:
    """The texts of the page's column headings, tags left out."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<th[^>]*>(.*?)</th>", page)
    ]


def _labels_outside(fig: Figure) -> list[str]:
    """The axes' labels, tick labels, titles, annotations and legends reaching past the edge
    of the figure (as saved: the figure's own box)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    out = []
    for ax in fig.axes:
        legend = ax.get_legend()
        parts: list[Artist] = [ax.xaxis, ax.yaxis, ax.title, *ax.texts]
        for part in [*parts, *([legend] if legend is not None else [])]:
            ext = part.get_tightbbox(renderer)
            if ext is None or not part.get_visible():
                continue
            if (
                ext.x0 < box.x0 - 1
                or ext.y0 < box.y0 - 1
                or ext.x1 > box.x1 + 1
                or ext.y1 > box.y1 + 1
            ):
                out.append(part.get_label().get_text() if isinstance(part, Axis) else str(part))
    return out


def test_one_scenario_draws_no_pareto_front(alone: SweepResult) -> None:
    fig = cost_co2_figure(alone)
    (ax,) = fig.axes
    assert ax.get_legend() is None and not ax.lines  # no front to join, no empty entry
    assert "one scenario" in ax.get_title().lower()  # the plot says what it shows
    assert "Pareto" not in html_report(alone)


def test_a_sweep_draws_its_pareto_front(swept: SweepResult) -> None:
    fig = cost_co2_figure(swept)
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend is not None
    assert any("Pareto front" in t.get_text() for t in legend.get_texts())
    rows = swept.rows()
    front = pareto_front([(r["cost_per_parcel"], r["co2_g_per_parcel"]) for r in rows])
    (line,) = (line for line in ax.lines if "Pareto" in str(line.get_label()))
    assert list(line.get_xdata()) == [rows[i]["cost_per_parcel"] for i in front]


@pytest.mark.parametrize("draw", [cost_co2_figure, on_time_figure, utilisation_figure])
def test_no_label_is_cut_off(draw: Any, alone: SweepResult, swept: SweepResult) -> None:
    # One scenario and a sweep of four: every text of the figure lies inside it.
    for result in (alone, swept):
        assert _labels_outside(draw(result)) == []


def test_table_headings_are_words_with_units(alone: SweepResult, swept: SweepResult) -> None:
    for page in (html_report(alone), html_report(swept)):
        headings = _headings(page)
        snake = [h for h in headings if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]
        assert snake == []
        for wanted in ("On time (share)", "Cost per parcel (EUR)", "CO2 per parcel (g)",
                       "Distance (km)", "Unserved (orders)"):  # fmt: skip
            assert wanted in headings, (wanted, headings)
    assert "fleet.couriers.size" in _headings(html_report(swept))  # an axis keeps its path


def test_every_summary_metric_has_a_label() -> None:
    metrics = [*SUMMARY_METRICS, "lateness_p90_min", *(f"returns_{m}" for m in RETURN_METRICS)]
    assert [m for m in metrics if m not in KPI_LABELS] == []
    assert [KPI_LABELS[m] for m in metrics if "_" in KPI_LABELS[m]] == []  # words, not keys


def test_unserved_orders_are_shown_with_their_reasons(alone: SweepResult) -> None:
    reps = alone.reports[0]["replications"]
    counts: dict[str, int] = {}
    for rep in reps:
        for reason, n in rep["unserved_reasons"]:
            counts[reason] = counts.get(reason, 0) + n
    total = sum(counts.values())
    assert total > 0  # the fixture leaves some orders unserved
    page = html_report(alone)
    assert "Unserved orders by reason" in page
    table = page[page.index("Unserved orders by reason") :]
    for reason, n in counts.items():
        assert html.escape(UNSERVED_REASONS[reason]) in table
        mean = n / len(reps)
        assert f"<td>{mean:.3g}</td><td>{n / total:.0%}</td>" in table


def test_unserved_reasons_of_each_sweep_point(swept: SweepResult) -> None:
    page = html_report(swept)
    table = page[page.index("Unserved orders by reason") :]
    for point, report in zip(swept.points, swept.reports, strict=True):
        if any(rep["unserved_reasons"] for rep in report["replications"]):
            assert f"<td>{html.escape(point.label)}</td>" in table


def test_a_reason_without_a_text_is_shown_by_its_code() -> None:
    assert reason_text("a_new_reason") == "a new reason"


def test_returns_columns_and_reasons_when_a_later_point_has_them() -> None:
    # Returns off, then on: the table still shows their columns, and their unserved by reason.
    data = tiny_dict(days=3, returns={"share": 0.4})
    data["fleet"]["hubs"][0]["vehicles"] = {"van": 1, "cargo-bike": 1}
    result = sweep(grid(Scenario.from_dict(data), {"returns.share": [0, 0.4]}), progress=False)
    page = html_report(result)
    assert "Returns collected (share)" in _headings(page)
    on = result.reports[1]["replications"][0]["returns"]
    assert on["asked"] > 0 and on["unserved_reasons"]  # the seed leaves some unserved
    table = page[page.index("Unserved returns by reason") :]
    for code, _ in on["unserved_reasons"]:
        assert html.escape(reason_text(code)) in table
