"""The options benchmark runs end to end on a tiny day — in process, over real HTTP against a
seeded store served by uvicorn, and the consolidation — and writes the figures the issue
names."""

from __future__ import annotations

import io
import json
from pathlib import Path

from benchmarks.options import main

KEYS = {
    "inprocess_median_ms",
    "inprocess_p95_ms",
    "http_p95_ms",
    "http_errors",
    "planned_stops",
    "consolidation_km_saved_pct",
    "consolidation_co2_saved_pct",
}
TINY = ["--stops", "60", "--routes", "5", "--requests", "5", "--days", "2",
        "--orders-per-day", "20", "--time-limit", "0.3"]  # fmt: skip


def test_tiny_run_writes_the_named_keys(tmp_path: Path) -> None:
    """60 stops on 5 routes, 5 requests, 3 HTTP clients x 4 requests, two days of 20 orders:
    a table and the JSON keys, no HTTP error."""
    out = io.StringIO()
    target = tmp_path / "options.json"
    argv = [*TINY, "--clients", "3", "--per-client", "4", "--json", str(target)]
    assert main(argv, out) == 0
    data = json.loads(target.read_text())
    assert data.keys() >= KEYS
    assert data["planned_stops"] == 60
    assert data["inprocess_median_ms"] > 0
    assert data["options_per_request"] > 0
    assert data["http_requests"] == 12
    assert data["http_errors"] == 0
    assert data["http_p95_ms"] > 0
    text = out.getvalue()
    assert "options in process, median" in text
    assert "options over HTTP, 3 clients x 4, 2 workers, p95" in text


def test_without_http(tmp_path: Path) -> None:
    """--no-http leaves the HTTP figures empty."""
    target = tmp_path / "options.json"
    assert main([*TINY, "--no-http", "--json", str(target)], io.StringIO()) == 0
    data = json.loads(target.read_text())
    assert data["http_p95_ms"] is None and data["http_errors"] is None


def test_bad_arguments_exit_2() -> None:
    """Zero stops, zero clients or a share above one are refused."""
    assert main(["--stops", "0"], io.StringIO()) == 2
    assert main(["--clients", "0"], io.StringIO()) == 2
    assert main(["--eco-share", "1.5"], io.StringIO()) == 2
