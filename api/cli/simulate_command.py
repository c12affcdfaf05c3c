"""``lastmile simulate``: the what-if simulator on one scenario or a sweep, its reports
written into a folder (:func:`api.runtime.simulation_runs.run_to_folder`, as a simulation job
of the server writes them). Its progress (per replication, or per scenario of a sweep) goes
to stderr; stdout gets the KPI table and every file written, with its size.

The simulator is imported only when the command runs: the other commands start without it.
"""

from __future__ import annotations

import itertools
import json
import textwrap
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from api.cli.output import error
from api.cli.parsing import Whole
from api.cli.progress import Progress

__all__ = ["command", "kpi_lines"]

_HEADING_LINES = 3
"""Lines a column's heading may take: the table stays narrow and still reads in words."""


@click.command(
    "simulate",
    short_help="run a what-if scenario or a sweep of them",
    help=(
        "Run the what-if simulator on SCENARIO.TOML (or .yaml): one scenario, or a sweep over "
        "a grid of values given by --sweep SWEEP.TOML (an [axes] table of dotted paths and "
        'their values, e.g. "fleet.hubs.0.vehicles.robot" = [0, 4, 8]) or by --axis options. '
        "Shows its progress per replication (per scenario for a sweep) on stderr, writes "
        "report.json, report.csv, report.parquet, report.html (self-contained, with the "
        "plots) and plots/*.png into --out, prints the KPIs of every scenario and names every "
        "file written. Same scenario and seed, same numbers."
    ),
)
@click.argument(
    "scenario_file",
    metavar="SCENARIO.TOML",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--sweep",
    "sweep_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="SWEEP.TOML",
    help="a TOML file with an [axes] table: dotted path = [values]",
)
@click.option(
    "--axis",
    "axis_specs",
    multiple=True,
    metavar="PATH=V1,V2",
    help="one axis of the sweep, e.g. policies.concierge=true,false (repeatable)",
)
@click.option(
    "--scheduler", metavar="ADDR", help="run the sweep on this Dask scheduler (tcp://host:8786)"
)
@click.option("--workers", type=Whole(1, 256), default=1, help="local processes (default 1)")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/simulation"),
    show_default=True,
    help="folder of the reports",
)
@click.option("--seed", type=Whole(0), default=None, help="seed (default: the scenario's)")
def command(
    scenario_file: Path,
    sweep_file: Path | None,
    axis_specs: tuple[str, ...],
    scheduler: str | None,
    workers: int,
    out: Path,
    seed: int | None,
) -> int:
    """Run, write the reports, print a KPI table; the exit code."""
    from api.runtime.simulation_runs import kpi_table, run_to_folder
    from simulation import ScenarioError, load_scenario

    if sweep_file is not None and axis_specs:
        raise click.UsageError("give --sweep or --axis, not both")
    axes = _sweep_axes(sweep_file) if sweep_file is not None else _axis_options(axis_specs)
    if scheduler is not None and not axes:
        raise click.BadParameter(
            "a scheduler runs sweeps — add --sweep or --axis", param_hint="'--scheduler'"
        )
    try:
        scenario = load_scenario(scenario_file)
        points = len(_combinations(axes)) if axes else 1
        click.echo(f"lastmile simulate: {scenario.name}: {_many(points, 'scenario')} x "
                   f"{_many(scenario.replications, 'replication')}", err=True)  # fmt: skip
        before = _files(out)
        label, unit = (f"sweep of {scenario.name}", "scenarios") if axes else (
            f"simulating {scenario.name}", "replications")  # fmt: skip
        with _Told(label, unit) as told:
            result = run_to_folder(scenario, out, axes=axes, seed=seed, workers=workers,
                                   scheduler=scheduler, progress=told)  # fmt: skip
    except ScenarioError as exc:
        field = exc.field or "scenario"
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise click.BadParameter(
            f"{field}: {exc.message}{more}", param_hint="'SCENARIO.TOML'"
        ) from None
    except ConnectionError as exc:
        error("lastmile simulate", str(exc))
        return 1
    for line in kpi_lines(kpi_table(result)):
        click.echo(line)
    click.echo(f"wrote into {out}:")
    written = [(name, state) for name, state in _files(out).items() if before.get(name) != state]
    width = max((len(name) for name, _ in written), default=0)
    for name, (_, size) in written:
        click.echo(f"  {name.ljust(width)}  {_size(size)}")
    cached = len(list((out / "cache").glob("*.json")))
    if cached:
        click.echo(f"  cache/  {_many(cached, 'point')} of the sweep (a rerun reuses them)")
    return 0


def kpi_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The KPI table as printed: the report's headings in words with units
    (:data:`api.runtime.simulation_runs.KPI_LABELS`, from :data:`simulation.plots.KPI_LABELS`)
    wrapped over at most three lines and set down on a rule of dashes, then a line per
    scenario.

    Parameters
    ----------
    rows
        :func:`~api.runtime.simulation_runs.kpi_table`'s rows: ``label`` and each of
        ``KPI_COLUMNS``, means over replications (``None`` where there is none).
    """
    from api.runtime.simulation_runs import KPI_COLUMNS, KPI_LABELS

    keys = ("label", *KPI_COLUMNS)
    cells = [[str(r["label"]), *(_kpi(r[k]) for k in KPI_COLUMNS)] for r in rows]
    headings, widths = [], []
    for i, key in enumerate(keys):
        label = KPI_LABELS[key]
        # The narrowest column that holds its figures and its heading in at most three lines.
        width = max([*(len(c[i]) for c in cells), *(len(word) for word in label.split())])
        while len(lines := textwrap.wrap(label, width)) > _HEADING_LINES:
            width += 1
        headings.append(lines)
        widths.append(width)
    depth = max(len(lines) for lines in headings)
    heading = [[""] * (depth - len(lines)) + lines for lines in headings]  # units last
    table = [[h[d] for h in heading] for d in range(depth)]
    out = [_row(line, widths) for line in table]
    out.append("  ".join("-" * w for w in widths))
    out.extend(_row(line, widths) for line in cells)
    return out


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One line of the table: the first column left-aligned, the figures right-aligned."""
    padded = [
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(padded).rstrip()


class _Told:
    """A :class:`~api.cli.progress.Progress` fed by ``run_to_folder``'s ``(done, total)``
    calls: made on the first call, when the total is known; finished when the block ends."""

    def __init__(self, label: str, unit: str) -> None:
        self.label, self.unit = label, unit
        self.progress: Progress | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            self.progress = Progress(self.label, max(total, 1), unit=self.unit)
        self.progress.update(done)
        if done >= total:  # the runs are over; the files take a few seconds more
            self.progress.finish("writing the reports")

    def __enter__(self) -> _Told:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.progress is not None:
            self.progress.finish(
                "" if kind is None else "interrupted" if kind is KeyboardInterrupt else "failed"
            )


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """The files under ``folder`` but not in its ``cache/``: relative name -> (modification
    time in ns, size in bytes); what a run changed is what differs afterwards."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*"), key=_report_order):
        relative = path.relative_to(folder)
        if path.is_file() and relative.parts[0] != "cache":
            stat = path.stat()
            found[relative.as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return found


def _report_order(path: Path) -> tuple[int, str]:
    """The folder's own files before those of its sub-folders, each by name."""
    return len(path.parts), path.as_posix()


def _size(size: int) -> str:
    """Bytes as ``512 B``, ``12.3 kB``, ``4.5 MB``."""
    if size < 1_000:
        return f"{size} B"
    return f"{size / 1_000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def _many(n: int, thing: str) -> str:
    """``1 scenario``, ``2 scenarios``."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _sweep_axes(path: Path) -> dict[str, list[Any]]:
    """The ``[axes]`` table of a sweep file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="'--sweep'") from None
    axes = data.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise click.BadParameter(
            f'{path}: add an [axes] table, e.g. "policies.concierge" = [true, false]',
            param_hint="'--sweep'",
        )
    for name, values in axes.items():
        if not isinstance(values, list) or not values:
            raise click.BadParameter(
                f"{path}: axes.{name} must be a list of at least one value",
                param_hint="'--sweep'",
            )
    return axes


def _axis_options(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``PATH=V1,V2`` options as axes; values are JSON (numbers, true/false) or text."""
    axes: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise click.BadParameter(
                f"{spec!r} — write PATH=V1,V2 (e.g. policies.concierge=true,false)",
                param_hint="'--axis'",
            )
        values: list[Any] = []
        for part in text.split(","):
            try:
                values.append(json.loads(part))
            except ValueError:
                values.append(part.strip())
        axes[name.strip()] = values
    return axes


def _combinations(axes: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    """Every point of the grid the axes span."""
    return list(itertools.product(*axes.values()))


def _kpi(value: Any) -> str:
    """A KPI as the table shows it: three significant digits, ``–`` when missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
