"""Generated requests against the live app (benchmarks.fuzz, a seeded short run): no answer is a
5xx and every answer is one the OpenAPI document allows, for every operation and role."""

from __future__ import annotations

from pathlib import Path

from benchmarks.fuzz import fuzz, live_server


def test_generated_requests_meet_no_server_error_and_no_undocumented_answer(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path / "fuzz.db") as (url, keys):
        result = fuzz(url, keys, examples=4, seed=0)
    shown = [f"{f['operation']} as {f['role']}: {f['status']} {f['detail'][:200]}"
             for f in result.failures]  # fmt: skip
    assert result.operations >= 60 and result.cases >= 200
    assert result.server_errors == 0, shown
    assert result.schema_violations == 0, shown
