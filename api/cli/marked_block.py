"""A generated block of a text file, between two marker lines: read it, replace it.

The README holds blocks written by the code (the environment variables' table of
:mod:`api.cli.settings_table`, the demo figures of :mod:`benchmarks.demo_figures`), each
between a begin and an end marker such as ``<!-- env:begin -->`` and ``<!-- env:end -->``.
One rule for all of them, so a generator can never write into the wrong place: the text
holds exactly one begin marker and one end marker, each on a line of its own (spaces around
it allowed), the begin marker first. Anything else — a marker missing, written twice, the two
reversed, or a marker inside other text — raises :class:`ValueError` naming the marker, the
file and the lines, and nothing is written.

The block's *inner text* is what stands between the two marker lines: it starts after the
begin marker's line and ends with the newline before the end marker's line (empty when the
markers are on consecutive lines). The marker lines themselves are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MarkedBlock"]


@dataclass(frozen=True, slots=True)
class MarkedBlock:
    """The markers of one block.

    Parameters
    ----------
    begin, end
        The marker lines' text (without the newline), e.g. ``"<!-- env:begin -->"``.
    """

    begin: str
    end: str

    def inner(self, text: str, *, source: str | Path = "README.md") -> str:
        """The inner text of ``text``'s block (markers excluded).

        Raises
        ------
        ValueError
            If ``text`` does not hold exactly one begin and one end marker line, in order;
            the message names ``source`` (the file read) and the lines.
        """
        start, stop = self._span(text, source)
        return text[start:stop]

    def replace(self, text: str, inner: str, *, source: str | Path = "README.md") -> str:
        """``text`` with its block's inner text replaced by ``inner`` (nothing else touched).

        Raises
        ------
        ValueError
            As :meth:`inner`; or if ``inner`` is not empty and does not end with a newline
            (the end marker would be glued to its last line).
        """
        if inner and not inner.endswith("\n"):
            raise ValueError(
                f"the new block for {source} must end with a newline, so that {self.end} "
                "stays on a line of its own"
            )
        start, stop = self._span(text, source)
        return text[:start] + inner + text[stop:]

    def with_markers(self, inner: str) -> str:
        """The block as it stands in the file, marker lines included (no newline after the
        end marker)."""
        return f"{self.begin}\n{inner}{self.end}"

    def _span(self, text: str, source: str | Path) -> tuple[int, int]:
        """Where the inner text starts and stops in ``text`` (character offsets)."""
        rule = (
            f"the block must stand between one {self.begin} line and one {self.end} line, "
            "in that order"
        )
        found: dict[str, list[tuple[int, int]]] = {self.begin: [], self.end: []}
        offset = 0
        for number, line in enumerate(text.splitlines(keepends=True), start=1):
            for marker, places in found.items():
                if marker not in line:
                    continue
                if line.strip() != marker:
                    raise ValueError(
                        f"{source} line {number} holds {marker} inside other text; a marker "
                        f"must stand on a line of its own — {rule}"
                    )
                places.append((number, offset))
            offset += len(line)
        for marker, places in found.items():
            if not places:
                raise ValueError(f"{source} has no line {marker} — {rule}")
            if len(places) > 1:
                lines = ", ".join(str(number) for number, _ in places)
                raise ValueError(
                    f"{source} has {len(places)} lines {marker} (lines {lines}) — {rule}"
                )
        ((begin_line, begin_at),) = found[self.begin]
        ((end_line, end_at),) = found[self.end]
        if end_at < begin_at:
            raise ValueError(
                f"{source}: {self.end} (line {end_line}) comes before {self.begin} "
                f"(line {begin_line}) — {rule}"
            )
        start = begin_at + len(text[begin_at:].splitlines(keepends=True)[0])
        return start, end_at
