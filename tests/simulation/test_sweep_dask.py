"""Sweeps on a Dask distributed cluster (a LocalCluster of two worker processes on loopback)
give the same reports as the local sweep, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from simulation.scenario import Scenario
from simulation.sweep import grid, sweep


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes, one thread each, on 127.0.0.1; no dashboard."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def _text(reports: tuple[object, ...]) -> list[str]:
    return [json.dumps(r, sort_keys=True) for r in reports]


def test_dask_scheduler_gives_the_local_reports(
    tiny: Scenario, cluster: LocalCluster, tmp_path: Path
) -> None:
    points = grid(
        tiny, {"policies.concierge": [True, False], "fleet.hubs.0.vehicles.robot": [0, 2]}
    )
    local = sweep(points, progress=False)
    remote = sweep(points, progress=False, scheduler=cluster.scheduler_address,
                   cache_dir=tmp_path)  # fmt: skip
    assert _text(remote.reports) == _text(local.reports)
    assert remote.to_csv() == local.to_csv()
    assert len(list(tmp_path.glob("*.json"))) == 4  # cached: a resumed sweep runs nothing


def test_a_dask_client_executor_works_too(tiny: Scenario, cluster: LocalCluster) -> None:
    points = grid(tiny, {"noise.presence": [0.6, 0.95]})
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        remote = sweep(points, progress=False, executor=client.get_executor())
    assert _text(remote.reports) == _text(sweep(points, progress=False).reports)


def test_unreachable_scheduler_is_a_clear_error(tiny: Scenario) -> None:
    points = grid(tiny, {"policies.concierge": [True]})
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConnectionError, match="cannot reach the Dask scheduler"),
    ):
        sweep(points, progress=False, scheduler="tcp://127.0.0.1:9")


def test_executor_and_scheduler_are_exclusive(tiny: Scenario, cluster: LocalCluster) -> None:
    points = grid(tiny, {"policies.concierge": [True]})
    with (
        Client(cluster.scheduler_address, set_as_default=False) as client,
        pytest.raises(ValueError, match="not both"),
    ):
        sweep(points, executor=client.get_executor(), scheduler=cluster.scheduler_address)
