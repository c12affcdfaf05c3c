"""benchmarks.promises on a tiny scenario: changes parsed, a candidate the scenarios reject
runs as the baseline and says so, the promise-keeping policy and any real policy change are
paired replication by replication, and the JSON keys are the issue's (with on time at the
promised place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import promises
from simulation.scenario import Scenario
from tests.simulation.conftest import tiny_dict

KEYS = {"kept_share", "kept_share_ci", "first_attempt_success", "cost_per_parcel_ratio",
        "announced_before_miss_share", "baseline_kept_share", "delivered_in_window_share",
        "baseline_delivered_in_window_share"}  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    """The simulator's tiny scenario, 25 orders and no couriers (about a second a replication)."""
    data = tiny_dict(demand={"orders_per_day": 25})
    data["fleet"]["couriers"] = {"size": 0}
    return Scenario.from_dict(data)


def test_changes_are_parsed_as_json_or_text() -> None:
    assert promises.parse_changes(["policies.promises=kept", "replications=3",
                                   "policies.concierge=false"]) == {
        "policies.promises": "kept", "replications": 3, "policies.concierge": False,
    }  # fmt: skip
    with pytest.raises(ValueError, match="PATH=VALUE"):
        promises.parse_changes(["policies.promises"])


def test_a_policy_the_scenarios_reject_runs_the_baseline_and_says_so(tiny: Scenario) -> None:
    comparison, note = promises.compare(
        "tiny", tiny, {}, {"policies.promises": "always"}, replications=1
    )
    assert comparison.same_run and comparison.candidate is comparison.baseline
    assert "not implemented yet" in note and "policies.promises" in note
    figures = comparison.figures()
    assert set(figures) >= KEYS
    assert figures["kept_share"] == figures["baseline_kept_share"]
    assert 0 < figures["kept_share"] <= 1
    assert figures["cost_per_parcel_ratio"] == 1.0
    assert figures["kept_share_paired"][0] == 0.0


def test_the_promise_keeping_policy_is_paired_with_today(tiny: Scenario) -> None:
    comparison, note = promises.compare(
        "tiny", tiny, {}, {"policies.promises": "kept"}, replications=1
    )
    assert not comparison.same_run and note == "policies.promises=kept"
    base, cand = comparison.baseline.replications[0], comparison.candidate.replications[0]
    assert base.promises is not None and cand.promises is not None
    # The same customers and parcels; today sends no notice, "kept" asks before it sets out.
    assert base.promises.promised == cand.promises.promised
    assert base.promises.notices == 0 < cand.promises.notices
    figures = comparison.figures()
    assert set(figures) >= KEYS
    # Kept (on time at the place) counts the customer's misses as the system's side kept.
    assert figures["kept_share"] >= figures["delivered_in_window_share"]
    assert figures["kept_share"] == cand.promises.on_time_at_place_share
    assert figures["baseline_kept_share"] == base.promises.on_time_at_place_share
    assert figures["baseline_delivered_in_window_share"] == base.promises.kept_share
    assert figures["cost_per_parcel_ratio"] == pytest.approx(
        cand.cost_per_parcel / base.cost_per_parcel, abs=1e-3
    )


def test_a_real_policy_change_is_paired(tiny: Scenario) -> None:
    # Home-only slots against the concierge: two runs, the same customers in each replication.
    comparison, note = promises.compare(
        "tiny", tiny, {"policies.concierge": False}, {"policies.concierge": True}, replications=2
    )
    assert not comparison.same_run and note == "policies.concierge=True"
    base = [r.promises.kept_share for r in comparison.baseline.replications if r.promises]
    cand = [r.promises.kept_share for r in comparison.candidate.replications if r.promises]
    d = comparison.paired("promises_kept_share")
    assert d.n == 2 and d.mean == pytest.approx(sum(cand) / 2 - sum(base) / 2, abs=1e-6)


def test_the_command_writes_the_issue_keys(
    tiny: Scenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command on the tiny scenario alone (the shipped examples take minutes).
    path = tmp_path / "tiny.toml"
    path.write_text("", encoding="utf-8")
    monkeypatch.setattr(promises, "EXAMPLES", (("tiny", "tiny.toml", "primary"),))
    monkeypatch.setattr(promises, "load_scenario", lambda _p: tiny)
    out = tmp_path / "promises.json"
    assert promises.main(["--replications", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures) >= KEYS and set(figures["scenarios"]) == {"tiny"}
    assert set(figures) == KEYS | {"scenarios"}
    assert figures["scenarios"]["tiny"]["candidate_policy"] == "policies.promises=kept"
    assert not figures["scenarios"]["tiny"]["same_run"]
    table = capsys.readouterr().out
    assert "tiny" in table and "kept (CI)" in table


def test_one_scenario_runs_alone_by_label_or_file(
    tiny: Scenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Two stand-in examples: --scenario picks the second alone, by its file stem.
    examples = (("first", "first.toml", "primary"), ("second one", "second_one.toml", "other"))
    monkeypatch.setattr(promises, "EXAMPLES", examples)
    loaded: list[str] = []
    monkeypatch.setattr(promises, "load_scenario", lambda p: loaded.append(p.name) or tiny)
    out = tmp_path / "second.json"
    argv = ["--other-replications", "1", "--scenario", "SECOND_ONE", "--json", str(out)]
    assert promises.main(argv) == 0
    assert loaded == ["second_one.toml"]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures["scenarios"]) == {"second one"}
    assert figures["scenarios"]["second one"]["replications"] == 1
    assert figures["kept_share"] == figures["scenarios"]["second one"]["kept_share"]
    assert "1 replications (second one)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        promises.main(["--scenario", "nowhere"])
    assert "'second one' (second_one)" in capsys.readouterr().err
