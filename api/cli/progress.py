"""How far a long command has got: a bar redrawn in place on a terminal, plain lines otherwise.

Every long command (``demo``, ``plan``, ``import``, ``simulate``) shows its progress with
:class:`Progress` — counted work (orders imported, replications run) with
:meth:`Progress.update` / :meth:`Progress.advance`, and work bounded by a time limit (an
OR-Tools solve, which reports nothing while it searches) with :func:`ticking`, which advances
the bar with the clock from a background thread.

Progress goes to standard error, so that standard output keeps only the command's results and
can be piped. On a terminal the bar is one line redrawn in place (``\\r``) and ends with a
newline; elsewhere (a pipe, a CI log) a plain line is written at most every ``every_s``
seconds, plus the last one, so a log shows the command is alive without a line per item.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

__all__ = ["BAR_WIDTH", "Progress", "ticking"]

BAR_WIDTH = 24
"""Characters of the bar between its brackets."""


class Progress:
    """A progress display for ``total`` units of work (items, or seconds of a time limit).

    Parameters
    ----------
    label
        What is being done, e.g. ``"solving"``; starts every line.
    total
        Units of the whole work, > 0.
    unit
        Printed after the counts (``"s"``, ``"orders"``); empty prints bare counts.
    stream
        Where it is written (default standard error).
    interactive
        Redraw one line in place; default: whether ``stream`` is a terminal.
    every_s
        Seconds between two plain lines when not interactive.
    """

    def __init__(
        self,
        label: str,
        total: float,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        interactive: bool | None = None,
        every_s: float = 5.0,
    ) -> None:
        if total <= 0:
            raise ValueError(f"total must be > 0, got {total!r}")
        self.label = label
        self.total = float(total)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = _is_terminal(self.stream) if interactive is None else interactive
        self.every_s = every_s
        self.done = 0.0
        self._last_line_at = -float("inf")
        self._last_line = ""
        self._finished = False
        self._lock = threading.Lock()

    # -- reporting ----------------------------------------------------------------------------

    def update(self, done: float) -> None:
        """Set how many units are done (clipped to ``0..total``) and show it if due."""
        with self._lock:
            if self._finished:
                return
            self.done = min(max(float(done), 0.0), self.total)
            now = time.monotonic()
            if self.interactive:
                self._write("\r" + self.line())
            elif now - self._last_line_at >= self.every_s:
                self._last_line_at = now
                self._last_line = self.line()
                self._write(self._last_line + "\n")

    def advance(self, n: float = 1.0) -> None:
        """Count ``n`` more units done."""
        self.update(self.done + n)

    def finish(self, note: str = "") -> None:
        """Show the last state and end the line (leaving the block of ``with`` marks it all done).

        ``note`` is appended, e.g. ``"stopped early: no improvement"``. Calling it twice
        writes once.
        """
        with self._lock:
            if self._finished:
                return
            self._finished = True
            text = self.line() + (f" — {note}" if note else "")
            if self.interactive:
                self._write("\r" + text + "\n")
            elif text != self._last_line:  # a log never gets the same line twice in a row
                self._write(text + "\n")

    def line(self) -> str:
        """``label [#####-----] 40% 8/20 s`` on a terminal, ``label: 40% (8/20 s)`` elsewhere."""
        share = self.done / self.total
        counts = f"{_count(self.done)}/{_count(self.total)}" + (
            f" {self.unit}" if self.unit else ""
        )
        if not self.interactive:
            return f"{self.label}: {share:.0%} ({counts})"
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{self.label} [{bar}] {share:>4.0%} {counts}"

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: progress is not worth failing
            pass

    # -- as a context manager -----------------------------------------------------------------

    def __enter__(self) -> Progress:
        self.update(0)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:  # the block ran to its end: all the work is done
            self.done = self.total
            self.finish()
        else:  # end the line so the error starts on its own
            self.finish("interrupted" if kind is KeyboardInterrupt else "failed")


@contextmanager
def ticking(
    label: str,
    seconds: float,
    *,
    stream: TextIO | None = None,
    interactive: bool | None = None,
    tick_s: float = 0.5,
    every_s: float = 5.0,
) -> Iterator[Progress]:
    """Advance a bar with the clock while the block runs, up to ``seconds`` (a time limit).

    For work that reports nothing while it runs but is bounded by a time limit (a solve).
    When the block ends the bar is finished at the time actually taken (the solver may stop
    before its limit): ``solving [####] 100% 20/20 s`` or ``solving: 45% (9/20 s) — done
    early``.
    """
    progress = Progress(
        label, seconds, unit="s", stream=stream, interactive=interactive, every_s=every_s
    )
    stop = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        # Stops at the limit: a solve overrunning it by a moment shows 100 % once, not again
        # and again, and the closing line follows when the block ends.
        while not stop.wait(tick_s):
            elapsed = time.monotonic() - started
            progress.update(elapsed)
            if elapsed >= seconds:
                return

    thread = threading.Thread(target=tick, name=f"progress:{label}", daemon=True)
    progress.update(0)
    thread.start()
    try:
        yield progress
    except BaseException:
        stop.set()
        thread.join()
        progress.finish("interrupted")
        raise
    stop.set()
    thread.join()
    elapsed = time.monotonic() - started
    progress.done = min(elapsed, progress.total)  # shown by finish: one closing line, not two
    progress.finish("" if elapsed >= seconds else f"done in {elapsed:.1f} s")


def _count(value: float) -> str:
    """A count as printed: whole numbers bare, others with one decimal."""
    return f"{value:.0f}" if float(value).is_integer() or value >= 100 else f"{value:.1f}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
