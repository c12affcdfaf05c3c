"""The progress display of long commands: a bar in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import time

import pytest

from api.cli.progress import BAR_WIDTH, Progress, ticking


def test_plain_lines_are_throttled_and_the_last_is_always_written() -> None:
    out = io.StringIO()
    with Progress("importing", 10, unit="orders", stream=out, every_s=3600) as progress:
        for _ in range(10):
            progress.advance()
    lines = out.getvalue().splitlines()
    # The first update, then nothing for an hour, then the closing line.
    assert lines == ["importing: 0% (0/10 orders)", "importing: 100% (10/10 orders)"]
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    out = io.StringIO()
    with Progress("solving", 4, unit="s", stream=out, interactive=True) as progress:
        progress.update(2)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    last = text.rsplit("\r", 1)[-1]
    assert last.strip() == f"solving [{'#' * BAR_WIDTH}] 100% 4/4 s"
    assert f"[{'#' * (BAR_WIDTH // 2)}{'-' * (BAR_WIDTH // 2)}]  50% 2/4 s" in text


def test_a_failure_ends_the_line_and_says_so() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), Progress("planning", 3, stream=out, every_s=3600) as p:
        p.advance()
        raise RuntimeError("boom")
    assert out.getvalue().splitlines()[-1] == "planning: 33% (1/3) — failed"


def test_ticking_follows_the_clock_and_says_when_it_ended_early() -> None:
    out = io.StringIO()
    with ticking("solving", 30, stream=out, tick_s=0.02, every_s=0):
        time.sleep(0.15)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3  # it moved while the block ran
    assert lines[-1].startswith("solving: 0% (0.") or lines[-1].startswith("solving: 1% (0.")
    assert "done in 0." in lines[-1]


def test_total_must_be_positive() -> None:
    with pytest.raises(ValueError, match="total must be > 0"):
        Progress("x", 0)


def test_ticking_ends_with_one_closing_line() -> None:
    out = io.StringIO()
    with ticking("solving", 0.05, stream=out, tick_s=0.01, every_s=0):
        time.sleep(0.12)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "solving: 100% (0.1/0.1 s)" or lines[-1].startswith("solving: 100%")
    assert sum(line.startswith("solving: 100%") for line in lines) == 1
