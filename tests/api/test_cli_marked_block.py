"""The one rule of a README's marked block: exactly one begin and one end marker line, in
order; anything else is refused with an error naming the marker, the file and the lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli.marked_block import MarkedBlock

BLOCK = MarkedBlock("<!-- x:begin -->", "<!-- x:end -->")
B, E = BLOCK.begin, BLOCK.end


def test_the_inner_text_is_between_the_marker_lines() -> None:
    text = f"# T\nbefore\n{B}\none\ntwo\n{E}\nafter\n"
    assert BLOCK.inner(text) == "one\ntwo\n"
    assert BLOCK.inner(f"{B}\n{E}\n") == ""
    assert BLOCK.with_markers("one\n") == f"{B}\none\n{E}"


def test_replacing_touches_only_the_inner_text() -> None:
    text = f"# T\nbefore\n{B}\nstale\n{E}\nafter\n"
    new = BLOCK.replace(text, "fresh\nlines\n")
    assert new == f"# T\nbefore\n{B}\nfresh\nlines\n{E}\nafter\n"
    assert BLOCK.replace(new, "fresh\nlines\n") == new
    assert BLOCK.replace(new, "") == f"# T\nbefore\n{B}\n{E}\nafter\n"


def test_a_new_block_without_its_last_newline_is_refused() -> None:
    # It would glue the end marker to its last line and break the next reading.
    with pytest.raises(ValueError, match="end with a newline"):
        BLOCK.replace(f"{B}\n{E}\n", "no newline")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no markers\n", r"README\.md has no line <!-- x:begin -->"),
        (f"{B}\nno end\n", r"README\.md has no line <!-- x:end -->"),
        (f"no begin\n{E}\n", r"README\.md has no line <!-- x:begin -->"),
        (f"{B}\na\n{E}\n{B}\nb\n{E}\n", r"README\.md has 2 lines <!-- x:begin --> \(lines 1, 4\)"),
        (f"{B}\na\n{E}\nb\n{E}\n", r"README\.md has 2 lines <!-- x:end --> \(lines 3, 5\)"),
        (
            f"{E}\nreversed\n{B}\n",
            r"<!-- x:end --> \(line 1\) comes before <!-- x:begin --> \(line 3\)",
        ),
        (f"{B}\ntext {E} inline\n", r"README\.md line 2 holds <!-- x:end --> inside other text"),
    ],
    ids=["missing", "no-end", "no-begin", "two-begins", "two-ends", "reversed", "inline"],
)
def test_anything_but_one_pair_in_order_is_refused(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        BLOCK.inner(text, source=Path("docs/README.md"))
    # Every message says the rule, so the reader knows what the file should hold.
    assert f"one {B} line and one {E} line, in that order" in str(caught.value)
    assert "docs/README.md" in str(caught.value)
    with pytest.raises(ValueError, match=expected):
        BLOCK.replace(text, "new\n", source="README.md")


def test_a_marker_line_with_trailing_spaces_or_crlf_still_counts() -> None:
    assert BLOCK.inner(f"{B}  \r\nx\r\n{E}\r\n") == "x\r\n"
