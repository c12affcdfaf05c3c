"""The scenario file: valid files load, bad values name their field and the fix."""

from __future__ import annotations

import pickle
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulation.errors import ScenarioError
from simulation.scenario import Scenario, load_scenario, scenario_json_schema
from tests.simulation.conftest import tiny_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def with_value(path: str, value: Any) -> dict[str, Any]:
    """The tiny scenario with one dotted field set (lists indexed by number)."""
    data = tiny_dict()
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        # a negative demand
        ("demand.orders_per_day", 0, "demand.orders_per_day", "greater than or equal to 1"),
        # an hourly profile that is not 24 hours long
        ("demand.hourly_profile", [1.0] * 23, "demand.hourly_profile", "24"),
        # all-zero arrival rates
        ("demand.hourly_profile", [0.0] * 24, "demand.hourly_profile", "positive rate"),
        # a typo in a vehicle type
        ("fleet.hubs.0.vehicles", {"vann": 2}, "fleet.hubs.0.vehicles", "unknown vehicle type"),
        # couriers put at a hub
        ("fleet.hubs.0.vehicles", {"courier": 2}, "fleet.hubs.0.vehicles", "fleet.couriers"),
        # a probability above 1
        ("noise.presence", 1.5, "noise.presence", "less than or equal to 1"),
        # a robot slower than nothing
        ("fleet.robots.speed_kmh", 0, "fleet.robots.speed_kmh", "greater than 0"),
        # closing before opening
        ("policies.closing_h", 6, "policies", "closing_h"),
        # waves out of order
        ("policies.waves_h", [11, 7], "policies", "increasing"),
        # office and café shares over 1
        ("demand.preferences.office", 0.95, "demand.preferences", "exceed 1"),
        # an unknown field
        ("policies.concierg", True, "policies.concierg", "unknown field"),
        # a city block of length zero
        ("city.block_m", 0, "city.block_m", "greater than 0"),
        # an unknown timezone
        ("timezone", "Mars/Olympus", "timezone", "IANA"),
        # cost factors for a type that does not exist
        ("costs", {"zeppelin": {"per_km_eur": 1}}, "costs", "unknown vehicle type"),
        # a courier pool at a hub that does not exist
        ("fleet.couriers.hub", "nowhere", "fleet", "not one of the hubs"),
    ],
)
def test_bad_value_names_the_field(path: str, value: Any, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(with_value(path, value))
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_every_bad_field_is_listed() -> None:
    data = with_value("noise.presence", 2.0)
    data["demand"]["orders_per_day"] = -1
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(data)
    fields = [f for f, _ in caught.value.problems]
    assert set(fields) == {"noise.presence", "demand.orders_per_day"}


def test_missing_section_is_required() -> None:
    data = tiny_dict()
    del data["fleet"]
    with pytest.raises(ScenarioError, match="required") as caught:
        Scenario.from_dict(data)
    assert caught.value.field == "fleet"


def test_empty_fleet_is_refused() -> None:
    data = tiny_dict()
    data["fleet"] = {"hubs": [{"name": "hub", "vehicles": {"van": 0}}]}
    with pytest.raises(ScenarioError, match="empty"):
        Scenario.from_dict(data)


def test_toml_file_loads_and_graphml_path_is_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        'name = "t"\n[city]\nkind = "graphml"\npath = "streets.graphml"\n'
        '[demand]\norders_per_day = 5\n[[fleet.hubs]]\nname = "h"\n'
        "vehicles = { van = 1 }\n",
        encoding="utf-8",
    )
    scenario = load_scenario(tmp_path / "s.toml")
    assert scenario.city.kind == "graphml"
    assert scenario.city.path == tmp_path / "streets.graphml"  # type: ignore[union-attr]


def test_broken_toml_says_so(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text("name = \n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(tmp_path / "s.toml")


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.toml")
    (tmp_path / "s.ini").write_text("x", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"\.toml"):
        load_scenario(tmp_path / "s.ini")


def test_with_changes_validates_again(tiny: Scenario) -> None:
    changed = tiny.with_changes({"policies.concierge": False, "fleet.hubs.0.vehicles.robot": 9})
    assert changed.policies.concierge is False
    assert changed.fleet.hubs[0].vehicles["robot"] == 9
    assert changed.digest() != tiny.digest()
    with pytest.raises(ScenarioError) as caught:
        tiny.with_changes({"noise.presence": 3})
    assert caught.value.field == "noise.presence"
    with pytest.raises(ScenarioError, match="no field"):
        tiny.with_changes({"policies.nothing.here": 1})


def test_digest_is_stable_and_ignores_key_order() -> None:
    a = Scenario.from_dict(tiny_dict())
    b = Scenario.from_dict(dict(reversed(list(tiny_dict().items()))))
    assert a.digest() == b.digest()


def test_error_survives_pickling() -> None:
    error = ScenarioError("noise.presence", "must be at most 1", problems=[("a", "b"), ("c", "d")])
    again = pickle.loads(pickle.dumps(error))
    assert (again.field, again.message, again.problems) == (error.field, error.message,
                                                            error.problems)  # fmt: skip


def test_schema_documents_every_field_with_a_description() -> None:
    schema = scenario_json_schema()
    models = {**schema["$defs"], "Scenario": schema}
    undocumented = [
        f"{model}.{name}"
        for model, body in models.items()
        for name, prop in body.get("properties", {}).items()
        if name != "kind" and "description" not in prop
    ]
    assert undocumented == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.description


def test_a_yaml_scenario_is_the_toml_one(tmp_path: Path) -> None:
    toml = EXAMPLES / "eco_consolidation.toml"
    with toml.open("rb") as f:
        data = tomllib.load(f)
    path = tmp_path / "eco.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_scenario(path) == load_scenario(toml)


def test_a_bad_yaml_value_names_its_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "demand:\n  orders_per_day: 10\n  preferences:\n    eco_wait: 1.5\n"
        "fleet:\n  hubs:\n    - name: hub\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field == "demand.preferences.eco_wait"
    path.write_text("demand: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="is not valid YAML"):
        load_scenario(path)
