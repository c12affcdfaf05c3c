"""The promise-buffer benchmark: its arguments, its table, and a tiny run end to end that
plans a seeded day with the buffer off and on and writes the figures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.promise_buffer import Row, main, parse_confidences, table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("off,0.8,0.9,0.95", (0.0, 0.8, 0.9, 0.95)),  # the default comparison
        ("0.5", (0.5,)),  # one value
        (" OFF , 0.9", (0.0, 0.9)),  # spaces and case
    ],
)
def test_confidences_parse(text: str, expected: tuple[float, ...]) -> None:
    assert parse_confidences(text) == expected


@pytest.mark.parametrize("text", ["1", "1.2", "-0.1", "sure"])
def test_a_confidence_outside_zero_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_confidences(text)


def test_the_table_names_each_confidence() -> None:
    rows = [
        Row("synthetic", None, 6, 48.3, 310.19, 40, 40, 1.0, 18.1, 40.2, 0.21, 10, 1.0, 0.525),
        Row("synthetic", 0.9, 7, 52.7, 332.14, 39, 40, 0.975, 12.5, 30.5, 0.0, 10, 0.9, 0.904),
    ]
    text = table(rows).splitlines()
    assert "off" in text[2] and "0.9" in text[3]
    assert "97.5%" in text[3] and "0.904" in text[3]


@pytest.mark.slow
def test_tiny_run_plans_with_and_without_the_buffer(tmp_path: Path) -> None:
    """20 orders of the synthetic demo day, 1 s solves, off and 0.9: both rows written, the
    environment restored, and every option offered on the buffer at least 0.9 sure."""
    target = tmp_path / "buffer.json"
    before = os.environ.get("LASTMILE_PROMISE_CONFIDENCE")
    argv = ["--city", "synthetic", "--orders", "20", "--time-limit", "1", "--sample", "4",
            "--confidences", "off,0.9", "--json", str(target)]  # fmt: skip
    assert main(argv) == 0
    assert os.environ.get("LASTMILE_PROMISE_CONFIDENCE") == before  # restored
    data = json.loads(target.read_text())
    off, on = data["cities"]["synthetic"]
    assert off["confidence"] is None and on["confidence"] == 0.9
    assert off["orders"] == on["orders"] == 20
    assert on["asked"] == 4
    assert on["weak_share"] == 0.0  # nothing under 0.9 is offered on the 0.9 buffer
    assert on["windows_per_order"] >= on["options_per_order"]
    assert on["min_option_confidence"] is None or on["min_option_confidence"] >= 0.895
