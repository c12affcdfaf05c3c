"""Plots of a sweep and one self-contained HTML report an analyst can send.

* cost per parcel against CO2 per parcel, one point per scenario; with a sweep the Pareto
  front is drawn (the scenarios no other beats on both), with one scenario the plot says so
  and draws no front;
* on-time share by scenario, with 95 % confidence intervals;
* utilisation per vehicle type and scenario.

The report's tables head their columns in words with units (:data:`KPI_LABELS`; the KPIs keep
their keys in JSON, CSV and Parquet) and break the unserved orders (and returns) down by
reason (:data:`UNSERVED_REASONS`): mean count per replication and share of the unserved.

Figures are drawn with matplotlib's object API (no pyplot, no display needed), laid out so
that no label reaches past the figure's edge, and embedded in the HTML as PNG data, so the
report is one file.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from simulation.sweep import SweepResult

__all__ = [
    "KPI_LABELS",
    "UNSERVED_REASONS",
    "cost_co2_figure",
    "html_report",
    "kpi_label",
    "on_time_figure",
    "pareto_front",
    "reason_text",
    "utilisation_figure",
]

KPI_LABELS: Mapping[str, str] = {
    "label": "Scenario",
    "on_time_share": "On time (share)",
    "first_attempt_success": "First attempt worked (share)",
    "cost_per_parcel": "Cost per parcel (EUR)",
    "cost_eur": "Cost (EUR)",
    "co2_g_per_parcel": "CO2 per parcel (g)",
    "km": "Distance (km)",
    "utilisation": "Utilisation (share)",
    "delivered": "Delivered (orders)",
    "failed": "Failed (orders)",
    "unserved": "Unserved (orders)",
    "mean_wait_days": "Wait before delivery (days, mean)",
    "lateness_p90_min": "Lateness, 90th percentile (min)",
    "returns_asked": "Returns asked (returns)",
    "returns_collected": "Returns collected (returns)",
    "returns_collected_share": "Returns collected (share)",
    "returns_on_tour_share": "Returns on a delivery tour (share)",
    "returns_to_store_share": "Returns to a store (share)",
    "returns_added_km": "Distance added by returns (km)",
    "returns_added_co2_g": "CO2 added by returns (g)",
    "returns_expected_resale_share": "Expected resale (share)",
    "promises_promised": "Promises confirmed (orders)",
    "promises_kept_share": "Promises kept (share)",
    "promises_on_time_at_place_share": "On time at the promised place (share)",
    "promises_late_p50_min": "Late promises, median (min)",
    "promises_late_p90_min": "Late promises, 90th percentile (min)",
    "promises_late_max_min": "Late promises, latest (min)",
    "promises_absent": "Missed: customer absent at an on-time attempt (orders)",
    "promises_rescheduled": "Missed: customer told the ETA chose another option (orders)",
    "promises_notices": "Notices sent (notices)",
    "promises_announced_before_miss_share": (
        "Misses by the system announced before the window (share)"
    ),
    "promises_cost_per_kept": "Cost per promise kept (EUR)",
}
"""Column headings in words with units, by KPI key (:mod:`simulation.kpis`); every figure is
a mean over replications. A sweep's axis columns keep their dotted paths."""

UNSERVED_REASONS: Mapping[str, str] = {
    "not_planned_in_time": "not planned in time: still waiting after the last day's plan",
    "after_last_day": "due after the last simulated day (carried over)",
    "on_board_at_end": "still on board when the simulation stopped",
    "customer_absent": "customer absent at every pickup attempt",
    "unknown": "no reason recorded",
}
"""Why an order (or a return) ended unserved, by the reason code the simulator records."""


def kpi_label(key: str) -> str:
    """The heading of a KPI column: :data:`KPI_LABELS`, else the key itself (an axis path)."""
    return KPI_LABELS.get(key, key)


def reason_text(code: str) -> str:
    """An unserved reason in words: :data:`UNSERVED_REASONS`, else the code with spaces."""
    return UNSERVED_REASONS.get(code, code.replace("_", " "))


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
    """Cost per parcel (EUR) against CO2 per parcel (g), one point per scenario.

    With two scenarios or more the Pareto front (:func:`pareto_front`) is joined and named in
    a legend; with one there is no front to draw, and the title says what the point is.
    """
    rows = result.rows()
    xy = [(_num(r["cost_per_parcel"]), _num(r["co2_g_per_parcel"])) for r in rows]
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    ax.scatter([p[0] for p in xy], [p[1] for p in xy], color="#4c72b0", zorder=2)
    ax.margins(x=0.2, y=0.15)  # room for the labels beside the points
    finite = [x for x, _ in xy if not math.isnan(x)]
    middle = (min(finite) + max(finite)) / 2 if finite else 0.0
    for (x, y), r in zip(xy, rows, strict=True):
        # Labels point inwards, so the one at the right edge does not run off the plot.
        right = len(rows) > 1 and x > middle
        ax.annotate(r["label"], (x, y), fontsize=7, xytext=(-4 if right else 4, 4),
                    textcoords="offset points", ha="right" if right else "left")  # fmt: skip
    ax.set_xlabel("Cost per parcel (EUR)")
    ax.set_ylabel("CO2 per parcel (g)")
    if len(rows) == 1:
        x, y = xy[0]
        ax.set_title(f"One scenario, no sweep: {_fmt(x)} EUR and {_fmt(y)} g CO2 per parcel",
                     fontsize=10)  # fmt: skip
        return fig
    front = pareto_front(xy)
    ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], color="#dd8452",
            marker="o", label="Pareto front: no scenario is cheaper and cleaner",
            zorder=1)  # fmt: skip
    ax.set_title(f"{len(rows)} scenarios, means over replications", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def on_time_figure(result: SweepResult) -> Figure:
    """On-time share per scenario with its 95 % interval, the first scenario on top."""
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
    ax.invert_yaxis()  # the table's order, top down
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("On time (share of due orders), with its 95 % interval")
    return fig


def utilisation_figure(result: SweepResult) -> Figure:
    """Utilisation per vehicle type (bars) and scenario (groups): hub vehicles' hours out of
    the hub over shift hours, couriers' bundles accepted over offered."""
    types = sorted({t for rep in result.reports for t in rep["per_type"]})
    labels = [p.label for p in result.points]
    fig = Figure(figsize=(max(7, 1.2 * len(labels) + 2), 4), layout="constrained")
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
                  rotation=30 if len(labels) > 1 else 0, ha="right" if len(labels) > 1
                  else "center", fontsize=7)  # fmt: skip
    ax.set_ylabel("Utilisation (share)")
    ax.set_title("Hub vehicles: hours out over shift hours; couriers: bundles accepted over "
                 "offered", fontsize=9)  # fmt: skip
    if types:
        fig.legend(loc="outside right upper", fontsize=8, title="Vehicle type",
                   title_fontsize=8)  # fmt: skip
    return fig


def html_report(result: SweepResult, *, title: str = "lastmile what-if simulation") -> str:
    """One self-contained HTML page: the figures, the table of every scenario's KPIs, the
    unserved orders (and returns) by reason, and a sweep's paired differences."""
    sweeping = len(result.points) > 1
    cost_note = (
        "Each point is a scenario; the line joins the Pareto front, the scenarios no other "
        "beats on both cost and CO2."
        if sweeping
        else "One scenario: a sweep (<code>--sweep</code> or <code>--axis</code>) puts "
        "several side by side to compare their cost and CO2."
    )
    figures = [
        ("Cost and CO2 per parcel", cost_note, cost_co2_figure(result)),
        ("On-time share", "Due orders delivered at their place on the first try, inside "
         "their promised window.", on_time_figure(result)),
        ("Utilisation", "Per vehicle type, as the plot's title says.", utilisation_figure(result)),
    ]  # fmt: skip
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "img{max-width:100%}table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}"
        "th{background:#f4f4f4}th:first-child,td:first-child{text-align:left}"
        ".ci{display:block;color:#666;font-size:10px;white-space:nowrap}"
        ".reason{text-align:left!important}code{font-size:11px;color:#555}.note{color:#444}"
        ".wide{overflow-x:auto}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Means over replications; under each, its 95 % confidence interval (Student t). "
        "Same scenario and seed, same numbers.</p>",
    ]
    for caption, note, fig in figures:
        parts.append(f"<h2>{html.escape(caption)}</h2><p class='note'>{note}</p>"
                     f"<img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{_png(fig)}'>")  # fmt: skip
    rows = [{k: v for k, v in r.items() if not k.startswith("promises_")} for r in result.rows()]
    parts.append(("<h2>Scenarios</h2>" if sweeping else "<h2>Key figures</h2>")
                 + _table(rows))  # fmt: skip
    if any("promises_kept_share" in report["summary"] for report in result.reports):
        parts.append("<h2>Promises</h2><p class='note'>A promise is the day, place and window "
                     "the customer confirmed; kept when delivered there, inside the window. "
                     "On time at the promised place also counts the customer's misses: absent "
                     "at an attempt there inside the window, or told the ETA and chose "
                     "another option; the rest are the system's misses, announced when told "
                     "before the window opened. Lateness over the promises delivered late; "
                     "per vehicle type, the promises it first tried.</p>"
                     + _table(_promise_rows(result)))  # fmt: skip
    parts.append("<h2>Unserved orders by reason</h2>" + _reasons(result, "orders"))
    if any("returns" in rep for report in result.reports for rep in report["replications"]):
        parts.append("<h2>Unserved returns by reason</h2>" + _reasons(result, "returns"))
    if sweeping:
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
    head = "".join(f"<th>{html.escape(kpi_label(k))}</th>" for k in ("label", *DIFFERENCE_METRICS))
    body = []
    for i, point in enumerate(result.points[1:], start=1):
        cells = [f"<td>{html.escape(point.label)}</td>"]
        for metric in DIFFERENCE_METRICS:
            d = result.difference(metric, i)
            text = html.escape(f"{d.mean:+.3g}" if not math.isnan(d.mean) else "–")
            if not math.isnan(d.low):
                text += f"<span class='ci'>{html.escape(f'{d.low:+.3g} – {d.high:+.3g}')}</span>"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _reasons(result: SweepResult, what: str) -> str:
    """The unserved orders (``what="orders"``) or returns (``"returns"``) of every scenario by
    reason: the mean count per replication and the share of that scenario's unserved."""
    sweeping = len(result.points) > 1
    rows = []
    for point, report in zip(result.points, result.reports, strict=True):
        reps = report["replications"]
        counts: dict[str, int] = {}
        for rep in reps:
            source = rep if what == "orders" else (rep.get("returns") or {})
            for code, n in source.get("unserved_reasons", ()):
                counts[code] = counts.get(code, 0) + int(n)
        total = sum(counts.values())
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            cells = [f"<td>{html.escape(point.label)}</td>"] if sweeping else []
            cells.append(f"<td class='reason'>{html.escape(reason_text(code))} "
                         f"<code>{html.escape(code)}</code></td>")  # fmt: skip
            cells.append(f"<td>{n / max(1, len(reps)):.3g}</td><td>{n / total:.0%}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        return f"<p>None: no {what.removesuffix('s')} ended unserved.</p>"
    unit = "orders" if what == "orders" else "returns"
    head = ["Scenario"] if sweeping else []
    head += ["Reason", f"Unserved per replication ({unit}, mean)", "Share of the unserved"]
    heading = "".join(
        f"<th class='reason'>{h}</th>" if h == "Reason" else f"<th>{html.escape(h)}</th>"
        for h in head
    )
    return f"<table><tr>{heading}</tr>{''.join(rows)}</table>"


def _promise_rows(result: SweepResult) -> list[dict[str, Any]]:
    """Each point's promise KPIs (:data:`KPI_LABELS`), then kept share and cost per promise
    kept per vehicle type, headed in words."""
    out = []
    for row, report in zip(result.rows(), result.reports, strict=True):
        mine = {k: v for k, v in row.items() if k == "label" or k.startswith("promises_")}
        for vtype, kpis in sorted(report["per_type"].items()):
            for key, words in (("promises_kept_share", "kept (share)"),
                               ("promises_cost_per_kept", "EUR per promise kept")):  # fmt: skip
                if key in kpis:
                    name = f"{vtype}: {words}"
                    mine[name] = kpis[key]["mean"]
                    mine[f"{name}_low"], mine[f"{name}_high"] = kpis[key]["low"], kpis[key]["high"]
        out.append(mine)
    return out


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No scenarios.</p>"
    # Every point's columns: a KPI only later points have (returns turned on) gets one too.
    keys = [
        k for k in dict.fromkeys(k for r in rows for k in r) if not k.endswith(("_low", "_high"))
    ]
    # An axis keeps its dotted path; it may break after a dot in a narrow column.
    head = "".join(
        f"<th>{html.escape(kpi_label(str(k))).replace('.', '.<wbr>')}</th>" for k in keys
    )
    body = []
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k)
            low, high = r.get(f"{k}_low"), r.get(f"{k}_high")
            text = html.escape(_fmt(v))
            if isinstance(low, float) and isinstance(high, float):
                text += f"<span class='ci'>{html.escape(f'{_fmt(low)} – {_fmt(high)}')}</span>"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>"


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
