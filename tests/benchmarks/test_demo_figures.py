"""The README's demo figures: rendered from docs/benchmarks/demo.json, never typed by hand."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.demo_figures import (
    BEGIN,
    CITY_NAMES,
    DEFAULT_JSON,
    DEFAULT_README,
    END,
    demo_defaults,
    main,
    readme_block,
    render_block,
    replace_block,
)

FIGURES = ("routes", "km", "co2_kg", "cost_eur", "served", "unserved", "solve_s", "seconds",
           "cores", "load")  # fmt: skip
"""The figures of a city the README shows."""


@pytest.fixture
def document() -> dict[str, Any]:
    """The committed figures (docs/benchmarks/demo.json)."""
    data: dict[str, Any] = json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))
    return data


def test_the_readme_block_is_the_rendering_of_demo_json(document: dict[str, Any]) -> None:
    readme = DEFAULT_README.read_text(encoding="utf-8")
    assert readme_block(readme) == render_block(document), (
        "README.md's demo figures differ from docs/benchmarks/demo.json — run "
        "`python -m benchmarks.demo_figures` (or --render-only), do not edit them by hand"
    )


def test_demo_json_measured_both_cities_with_the_demos_defaults(document: dict[str, Any]) -> None:
    # The demo's defaults changed since the figures were measured: measure them again.
    defaults = demo_defaults()
    assert [c["city"] for c in document["cities"]] == list(CITY_NAMES)
    for c in document["cities"]:
        assert (c["orders"], c["seed"], c["time_limit_s"]) == (
            defaults["orders"], defaults["seed"], defaults["time_limit"]
        )  # fmt: skip
        assert c["served"] + c["unserved"] == c["orders"]
        assert c["routes"] >= 1 and c["km"] > 0 and c["co2_kg"] > 0 and c["cost_eur"] > 0
        assert 0 < c["solve_s"] <= c["seconds"] and c["cores"] >= 1 and c["load"] >= 0


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_is_in_the_block(document: dict[str, Any], figure: str) -> None:
    # A figure changed in the JSON changes the block, so the README test sees any drift.
    changed = copy.deepcopy(document)
    changed["cities"][-1][figure] += 7
    assert render_block(changed) != render_block(document)


def test_cities_measured_apart_with_other_settings_are_refused(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["cities"][0]["orders"] += 1
    with pytest.raises(ValueError, match="both cities at once"):
        render_block(changed)


def test_only_the_block_is_replaced() -> None:
    text = f"# title\n\nbefore\n{BEGIN}\nold figures\n{END}\nafter\n"
    new = f"{BEGIN}\nnew figures\n{END}"
    assert replace_block(text, new) == f"# title\n\nbefore\n{new}\nafter\n"


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        f"{END}\nreversed\n{BEGIN}\n",
        f"{BEGIN}\none\n{END}\n{BEGIN}\ntwo\n{END}\n",  # two blocks: which one?
    ],
)
def test_a_readme_without_one_block_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="one <!-- demo-figures:begin -->"):
        readme_block(text)


def test_rendering_into_a_readme_with_two_blocks_names_the_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    text = f"{BEGIN}\none\n{END}\n{BEGIN}\ntwo\n{END}\n"
    readme.write_text(text, encoding="utf-8")
    assert main(["--render-only", "--readme", str(readme)]) == 1
    err = capsys.readouterr().err
    assert f"error: {readme} has 2 lines {BEGIN} (lines 1, 4)" in err
    assert readme.read_text(encoding="utf-8") == text


@pytest.mark.slow
def test_the_script_measures_a_small_demo(tmp_path: Path) -> None:
    # End to end on a small day: the demo runs, its plan is read back, the block is written.
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\n{END}\nrest\n", encoding="utf-8")
    out = tmp_path / "demo.json"
    argv = ["--orders", "12", "--time-limit", "1", "--json", str(out), "--readme", str(readme)]
    assert main(argv) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [c["city"] for c in document["cities"]] == list(CITY_NAMES)
    for c in document["cities"]:
        assert c["orders"] == 12 and c["served"] + c["unserved"] == 12 and c["routes"] >= 1
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("\nrest\n")
    assert readme_block(text) == render_block(document)
