"""Every environment variable of lastmile in one table, made from one source.

The program's variables are the fields of :class:`orchestrator.settings.Settings`: their
names (``LASTMILE_<FIELD>``), defaults and descriptions are read from the class, so the
table cannot say something the code does not do. The test suite's own variables
(:data:`TEST_VARIABLES`) follow them, marked as such.

Two renderings: :func:`markdown` (the README's table, between ``<!-- env:begin -->`` and
``<!-- env:end -->``) and :func:`help_rows` (the short list ``lastmile serve --help`` shows,
each description's first sentence). Regenerate the README's block after changing a setting::

    .venv/bin/python -m api.cli.settings_table           # rewrite README.md's block
    .venv/bin/python -m api.cli.settings_table --check   # exit 1 if it is out of date

``tests/api/test_serve.py`` fails when the README's block differs from :func:`markdown` or
when the code names a ``LASTMILE_*`` variable the table lacks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from api.cli.marked_block import MarkedBlock
from orchestrator.settings import Settings, setting_name

__all__ = [
    "BEGIN",
    "BLOCK",
    "END",
    "TEST_VARIABLES",
    "Variable",
    "help_rows",
    "main",
    "markdown",
    "readme_block",
    "replace_block",
    "variables",
]

BEGIN = "<!-- env:begin -->"
"""The marker line after which the README's table starts."""
END = "<!-- env:end -->"
"""The marker line before which it ends."""
BLOCK = MarkedBlock(BEGIN, END)
"""The README's block (:mod:`api.cli.marked_block`: exactly one pair of marker lines)."""


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: its name, its default as written, and what it does."""

    name: str
    default: str
    """The default as a reader would write it; ``unset`` when there is none."""
    description: str
    tests_only: bool = False

    @property
    def summary(self) -> str:
        """The description's first sentence."""
        return _SENTENCE_END.split(self.description, maxsplit=1)[0]


TEST_VARIABLES = (
    Variable(
        "LASTMILE_TEST_POSTGRES_URL",
        "unset",
        "PostgreSQL URL the tests run the store's tests against too (a database is created "
        "and dropped per session). Unset: those cases are skipped; .ci/run sets it.",
        tests_only=True,
    ),
    Variable(
        "LASTMILE_CI_PG_PORT",
        "54329",
        "TCP port of the PostgreSQL server .ci/run starts on 127.0.0.1 for the tests.",
        tests_only=True,
    ),
    Variable(
        "LASTMILE_CHROMIUM",
        "/usr/bin/chromium",
        "Chromium executable the browser tests drive.",
        tests_only=True,
    ),
)
"""Variables read only by the test suite and its CI script, never by the program."""

_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z0-9])")
README = Path(__file__).resolve().parents[2] / "README.md"


def variables() -> list[Variable]:
    """Every variable: the settings in their class's order, then :data:`TEST_VARIABLES`."""
    out = []
    for field, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        shown = extra.get("shown_default")
        default = str(shown) if shown is not None else _written(info.default)
        out.append(Variable(setting_name(field), default, info.description or ""))
    return [*out, *TEST_VARIABLES]


def markdown() -> str:
    """The table in Markdown: variable, default, what it does (units in the text)."""
    lines = ["| Variable | Default | What it does |", "| --- | --- | --- |"]
    for v in variables():
        what = ("Tests only: " if v.tests_only else "") + v.description
        lines.append(f"| `{v.name}` | {_code(v.default)} | {_cell(what)} |")
    return "\n".join(lines) + "\n"


def help_rows() -> list[tuple[str, str]]:
    """The program's variables as ``lastmile serve --help`` lists them: the name, then the
    description's first sentence and the default."""
    return [(v.name, f"{v.summary} Default: {v.default}.") for v in variables() if not v.tests_only]


def readme_block(text: str, *, source: str | Path = "README.md") -> str:
    """What stands between the env marker lines of ``text`` (a README read from ``source``);
    :class:`ValueError` naming the marker and ``source`` unless it holds exactly one pair."""
    return BLOCK.inner(text, source=source)


def replace_block(text: str, block: str, *, source: str | Path = "README.md") -> str:
    """``text`` with ``block`` between its env marker lines (the same rule)."""
    return BLOCK.replace(text, block, source=source)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the table into README.md between the env markers (``--check``: only compare);
    the exit code: 1 when ``--check`` finds the block out of date."""
    args = sys.argv[1:] if argv is None else list(argv)
    check = args == ["--check"]
    if args and not check:
        print("usage: python -m api.cli.settings_table [--check]", file=sys.stderr)
        return 2
    text = README.read_text(encoding="utf-8")
    new = replace_block(text, markdown(), source=README)
    if check:
        if new != text:
            print(f"{README}: the environment table is out of date — run "
                  "`python -m api.cli.settings_table`", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    if new != text:
        README.write_text(new, encoding="utf-8")
        print(f"{README}: environment table written ({len(variables())} variables)")
    else:
        print(f"{README}: environment table already up to date")
    return 0


def _written(value: Any) -> str:
    """A default as a reader writes it: ``unset``, ``1,048,576``, ``1.3``, ``3,600``."""
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"{value:,g}" if isinstance(value, float) else f"{value:,}"
    return str(value)


def _code(default: str) -> str:
    return "unset" if default == "unset" else f"`{default}`"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell (a ``|`` would end it)."""
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    raise SystemExit(main())
