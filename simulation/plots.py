"""Plots of a sweep and one self-contained HTML report an analyst can send.

* cost per parcel against CO2 per parcel, one point per scenario, the Pareto front drawn
  (the scenarios no other beats on both);
* on-time share by scenario, with 95 % confidence intervals;
* utilisation per vehicle type and scenario.

Figures are drawn with matplotlib's object API (no pyplot, no display needed) and embedded
in the HTML as PNG data, so the report is one file.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from simulation.sweep import SweepResult

__all__ = [
    "cost_co2_figure",
    "html_report",
    "on_time_figure",
    "pareto_front",
    "utilisation_figure",
]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both coordinates (both minimised),
    sorted by the first coordinate; points with a ``nan`` coordinate are left out."""
    valid = [i for i, (a, b) in enumerate(points) if not (math.isnan(a) or math.isnan(b))]
    front = [
        i
        for i in valid
        if not any(
            points[j][0] <= points[i][0] and points[j][1] <= points[i][1] and points[j] != points[i]
            for j in valid
        )
    ]
    return sorted(front, key=lambda i: (points[i][0], points[i][1]))


def cost_co2_figure(result: SweepResult) -> Figure:
    """Cost per parcel (EUR) against CO2 per parcel (g), the Pareto front joined."""
    rows = result.rows()
    xy = [(_num(r["cost_per_parcel"]), _num(r["co2_g_per_parcel"])) for r in rows]
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    ax.scatter([p[0] for p in xy], [p[1] for p in xy], color="#4c72b0", zorder=2)
    for (x, y), r in zip(xy, rows, strict=True):
        ax.annotate(r["label"], (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    front = pareto_front(xy)
    ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], color="#dd8452",
            label="Pareto front", zorder=1)  # fmt: skip
    ax.set_xlabel("cost per parcel (EUR)")
    ax.set_ylabel("CO2 per parcel (g)")
    ax.legend()
    return fig


def on_time_figure(result: SweepResult) -> Figure:
    """On-time share per scenario with its 95 % interval."""
    rows = result.rows()
    fig = Figure(figsize=(7, 0.4 * len(rows) + 1.5), layout="constrained")
    ax = fig.subplots()
    means = [_num(r["on_time_share"]) for r in rows]
    lows = [_num(r["on_time_share_low"]) for r in rows]
    highs = [_num(r["on_time_share_high"]) for r in rows]
    err = [
        [0 if math.isnan(lo) else m - lo for m, lo in zip(means, lows, strict=True)],
        [0 if math.isnan(hi) else hi - m for m, hi in zip(means, highs, strict=True)],
    ]
    ax.barh([r["label"] for r in rows], means, xerr=err, color="#55a868")
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("on-time share")
    return fig


def utilisation_figure(result: SweepResult) -> Figure:
    """Utilisation per vehicle type (bars) and scenario (groups)."""
    types = sorted({t for rep in result.reports for t in rep["per_type"]})
    labels = [p.label for p in result.points]
    fig = Figure(figsize=(max(6, 1.2 * len(labels)), 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(types))
    for k, name in enumerate(types):
        values = [
            _num(rep["per_type"].get(name, {}).get("utilisation", {}).get("mean"))
            for rep in result.reports
        ]
        ax.bar([i + k * width for i in range(len(labels))], [0 if math.isnan(v) else v
               for v in values], width, label=name)  # fmt: skip
    ax.set_xticks([i + width * (len(types) - 1) / 2 for i in range(len(labels))], labels,
                  rotation=30, ha="right", fontsize=7)  # fmt: skip
    ax.set_ylabel("utilisation (busy / shift hours; couriers: accepted / offered)")
    ax.legend(fontsize=7)
    return fig


def html_report(result: SweepResult, *, title: str = "lastmile what-if simulation") -> str:
    """One self-contained HTML page: the figures and the table of every scenario's KPIs."""
    figures = [
        ("Cost and CO2 per parcel", cost_co2_figure(result)),
        ("On-time share", on_time_figure(result)),
        ("Utilisation", utilisation_figure(result)),
    ]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
        "padding:3px 6px;text-align:right}th:first-child,td:first-child{text-align:left}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Means over replications with 95 % confidence intervals (Student t). Same scenario "
        "and seed, same numbers.</p>",
    ]
    for caption, fig in figures:
        parts.append(f"<h2>{html.escape(caption)}</h2><img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{_png(fig)}'>")  # fmt: skip
    parts.append("<h2>Scenarios</h2>" + _table(result.rows()))
    if len(result.points) > 1:
        parts.append(
            f"<h2>Against {html.escape(result.points[0].label)}</h2><p>Differences paired "
            "replication by replication, with 95 % confidence intervals: the scenarios saw the "
            "same customers and parcels in each replication, so these intervals are far "
            "narrower than the means' above and are the ones to judge a difference by.</p>"
            + _differences(result)
        )
    parts.append("</body></html>")
    return "\n".join(parts)


DIFFERENCE_METRICS = (
    "cost_per_parcel",
    "cost_eur",
    "co2_g_per_parcel",
    "km",
    "on_time_share",
    "delivered",
    "unserved",
    "mean_wait_days",
)
"""Replication KPIs shown as paired differences against the first point of a sweep."""


def _differences(result: SweepResult) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ("scenario", *DIFFERENCE_METRICS))
    body = []
    for i, point in enumerate(result.points[1:], start=1):
        cells = [f"<td>{html.escape(point.label)}</td>"]
        for metric in DIFFERENCE_METRICS:
            d = result.difference(metric, i)
            text = f"{d.mean:+.3g}" if not math.isnan(d.mean) else "–"
            if not math.isnan(d.low):
                text += f" ({d.low:+.3g} – {d.high:+.3g})"
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No scenarios.</p>"
    keys = [k for k in rows[0] if not k.endswith(("_low", "_high"))]
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
    body = []
    for r in rows:
        cells = []
        for k in keys:
            v = r[k]
            low, high = r.get(f"{k}_low"), r.get(f"{k}_high")
            text = _fmt(v)
            if isinstance(low, float) and isinstance(high, float):
                text += f" ({_fmt(low)} – {_fmt(high)})"
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.3g}"
    return "–" if value is None else str(value)
