"""Sweeps: a grid over fleet mixes and policies, run in local processes, cached, resumable.

:func:`grid` turns a base scenario and axes of dotted-path values
(``{"fleet.hubs.0.vehicles.robot": [0, 6, 12], "policies.concierge": [True, False]}``) into
one scenario per combination; :func:`sweep` runs them — in this process, in a pool of local
processes (the default port), on a Dask ``distributed`` cluster given its scheduler's address
(``scheduler="tcp://host:8786"``), or on any :class:`concurrent.futures.Executor` — with a
progress bar. Every port gives the same reports, byte for byte. Each point's report is cached
under ``cache_dir`` by the scenario's digest and the seed, written atomically, so an
interrupted sweep resumes where it stopped and a point already run is never run again.

The result is a table (:meth:`SweepResult.rows`, :meth:`SweepResult.to_csv`): one row per
point with the axis values and the means and 95 % CIs of the summary KPIs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from simulation.errors import ScenarioError
from simulation.kpis import Estimate, paired_difference
from simulation.report import run
from simulation.scenario import Scenario

__all__ = ["SweepPoint", "SweepResult", "grid", "sweep"]


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One combination of the axes: its label, the changed fields and the scenario."""

    label: str
    changes: Mapping[str, Any]
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Each point with its report (as :meth:`simulation.Report.to_dict` gives it)."""

    points: tuple[SweepPoint, ...]
    reports: tuple[Mapping[str, Any], ...]
    seed: int

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per point: label, axis values, then ``<metric>``, ``<metric>_low``,
        ``<metric>_high`` for every summary KPI."""
        out = []
        for point, report in zip(self.points, self.reports, strict=True):
            row: dict[str, Any] = {"label": point.label, **point.changes}
            for metric, est in report["summary"].items():
                row[metric] = est["mean"]
                row[f"{metric}_low"] = est["low"]
                row[f"{metric}_high"] = est["high"]
            out.append(row)
        return out

    def difference(self, metric: str, point: int, baseline: int = 0) -> Estimate:
        """``metric`` of point ``point`` minus that of point ``baseline``, paired replication by
        replication (:func:`simulation.kpis.paired_difference`), with its 95 % CI.

        Raises
        ------
        KeyError
            If ``metric`` is not a replication KPI.
        """
        a, b = (
            [float("nan") if r[metric] is None else r[metric]
             for r in self.reports[i]["replications"]]
            for i in (point, baseline)
        )  # fmt: skip
        return paired_difference(a, b)

    def to_csv(self) -> str:
        """The rows as CSV; a KPI only some points have (returns KPIs of a sweep over
        ``returns.share``) gets a column, left empty where a point has none."""
        rows = self.rows()
        buffer = io.StringIO()
        if rows:
            columns = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return buffer.getvalue()


def grid(base: Scenario, axes: Mapping[str, Sequence[Any]]) -> list[SweepPoint]:
    """Every combination of the axes' values applied to ``base``, in the axes' order.

    Raises
    ------
    ScenarioError
        For an axis without values, a path that does not exist, or a combination that does
        not validate (named by its label).
    """
    for path, values in axes.items():
        if not values:
            raise ScenarioError(path, "give this axis at least one value")
    names = list(axes)
    points = []
    for combo in itertools.product(*(axes[n] for n in names)):
        changes = dict(zip(names, combo, strict=True))
        label = ", ".join(f"{n.rsplit('.', 1)[-1]}={v}" for n, v in changes.items())
        try:
            scenario = base.with_changes(changes)
        except ScenarioError as exc:
            raise ScenarioError(exc.field, f"sweep point [{label}]: {exc.message}") from None
        points.append(SweepPoint(label or base.name, changes, scenario))
    return points


def sweep(
    points: Sequence[SweepPoint],
    *,
    seed: int | None = None,
    workers: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = True,
    executor: Executor | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Run every point (all its replications), reusing cached reports.

    Parameters
    ----------
    points
        From :func:`grid`.
    seed
        Seed of every point (default: each scenario's own); the same seed gives common random
        numbers across points (same customers and parcels).
    workers
        Local processes; 1 runs in this process.
    cache_dir
        Folder of cached reports (``<digest>-<seed>.json``); ``None`` caches nothing.
    progress
        Show a progress bar (tqdm, on stderr); or, instead of the bar, call this with
        ``(points done, points)`` before running any (the cached ones done) and after each.
    executor
        Run on this executor instead (a Dask ``distributed`` client's executor, say); it
        must accept :func:`run_point`.
    scheduler
        Address of a Dask ``distributed`` scheduler (``"tcp://10.0.0.5:8786"``): run the
        points on its workers (they need lastmile installed). Not with ``executor``.

    Returns
    -------
    SweepResult
        The reports in the order of ``points``.

    Raises
    ------
    ValueError
        Both ``executor`` and ``scheduler`` given.
    ConnectionError
        The Dask scheduler cannot be reached.
    """
    if scheduler is not None:
        if executor is not None:
            raise ValueError("give either executor or scheduler, not both")
        with _dask_client(scheduler) as client:
            return sweep(
                points,
                seed=seed,
                cache_dir=cache_dir,
                progress=progress,
                executor=client.get_executor(),
            )
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    reports: list[Mapping[str, Any] | None] = [None] * len(points)
    todo: list[int] = []
    for i, point in enumerate(points):
        cached = _cached(cache, point.scenario, seed)
        if cached is not None:
            reports[i] = cached
        else:
            todo.append(i)
    told = progress if callable(progress) else None
    bar = tqdm(total=len(points), initial=len(points) - len(todo),
               disable=told is not None or not progress, desc="sweep", unit="scenario")  # fmt: skip
    if told is not None:
        told(len(points) - len(todo), len(points))
    try:
        for done, (i, report) in enumerate(_execute(points, todo, seed, workers, executor), 1):
            reports[i] = report
            if cache is not None:
                _store(cache, points[i].scenario, seed, report)
            bar.update(1)
            if told is not None:
                told(len(points) - len(todo) + done, len(points))
    finally:
        bar.close()
    final = tuple(r for r in reports if r is not None)
    assert len(final) == len(points)
    used = seed if seed is not None else -1
    return SweepResult(tuple(points), final, used)


def run_point(scenario_data: Mapping[str, Any], seed: int | None) -> dict[str, Any]:
    """Run one scenario (given as its JSON dump, which every executor can ship) and return
    its report as a dict."""
    return run(Scenario.from_dict(scenario_data), seed=seed).to_dict()


def _execute(
    points: Sequence[SweepPoint],
    todo: Sequence[int],
    seed: int | None,
    workers: int,
    executor: Executor | None,
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if executor is None and workers <= 1:
        for i in todo:
            yield i, run_point(points[i].scenario.model_dump(mode="json"), seed)
        return
    # Spawned, not forked: the solvers hold threads that a fork would copy half-way.
    own = executor is None
    pool = executor or ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures: dict[Future[dict[str, Any]], int] = {
            pool.submit(run_point, points[i].scenario.model_dump(mode="json"), seed): i
            for i in todo
        }
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        if own:
            pool.shutdown(cancel_futures=True)


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    """A Dask client connected to ``address``, closed on exit (Dask imported only here).

    It waits for the scheduler as long as Dask's ``distributed.comm.timeouts.connect`` says
    (30 s unless configured)."""
    from distributed import Client

    try:
        client = Client(address, set_as_default=False)  # type: ignore[no-untyped-call]  # distributed leaves Client() unannotated
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address!r} ({exc}) — start one (`dask "
            "scheduler`, then `dask worker ADDRESS`) or check the address"
        ) from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]  # distributed leaves close() unannotated


def _key(scenario: Scenario, seed: int | None) -> str:
    return f"{scenario.digest()}-{scenario.seed if seed is None else seed}.json"


def _cached(cache: Path | None, scenario: Scenario, seed: int | None) -> Mapping[str, Any] | None:
    if cache is None:
        return None
    path = cache / _key(scenario, seed)
    try:
        report: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or half-written: run it again
    return report


def _store(cache: Path, scenario: Scenario, seed: int | None, report: Mapping[str, Any]) -> None:
    path = cache / _key(scenario, seed)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: an interrupted sweep never leaves a half report behind
