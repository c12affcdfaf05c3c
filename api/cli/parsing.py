"""How the command line reads its arguments: parameter types whose messages name the fix, and
a group that says which subcommand is missing.

Every message here becomes the one line ``error: lastmile CMD: ...`` of
:func:`api.cli.main`.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import date
from typing import Any

import click

__all__ = ["CONTEXT_SETTINGS", "Day", "Group", "Seconds", "Whole"]

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}
"""Click context settings of every group: ``-h`` works as ``--help``."""


class Whole(click.ParamType[int]):
    """A whole number within bounds; the message says which bounds.

    Parameters
    ----------
    least
        The smallest number accepted.
    most
        The largest number accepted; ``None`` for no bound.
    """

    name = "integer"

    def __init__(self, least: int, most: int | None = None) -> None:
        self.least, self.most = least, most

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """``value`` as a whole number within the bounds; a usage error otherwise."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a whole number", param, ctx)
        if number < self.least or (self.most is not None and number > self.most):
            bounds = (
                f">= {self.least}" if self.most is None else f"from {self.least} to {self.most}"
            )
            self.fail(f"{number} is out of range — give a number {bounds}", param, ctx)
        return number


class Seconds(click.ParamType[float]):
    """A positive, finite number of seconds."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """``value`` as seconds (> 0, finite); a usage error otherwise."""
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (seconds > 0 and seconds < float("inf")):
            self.fail(f"{value} s is not a positive number of seconds", param, ctx)
        return seconds


class Day(click.ParamType[date]):
    """A date written ``YYYY-MM-DD``."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        """``value`` as a date; a usage error naming the format otherwise."""
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date — give YYYY-MM-DD", param, ctx)


class Group(click.Group):
    """A group that names what is missing (``COMMAND``, ``ACTION``) when nothing is given.

    Parameters
    ----------
    name, commands
        As :class:`click.Group`'s.
    what
        What its subcommands are called in the usage line and in the error.
    """

    def __init__(
        self,
        name: str | None = None,
        commands: MutableMapping[str, click.Command] | Sequence[click.Command] | None = None,
        *,
        what: str = "COMMAND",
        **kwargs: Any,
    ) -> None:
        kwargs.update(no_args_is_help=False, subcommand_metavar=f"{what} ...")
        super().__init__(name, commands, **kwargs)
        self.what = what

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Click's parsing, with a usage error listing the subcommands when none is given."""
        if not args and not ctx.resilient_parsing:
            names = ", ".join(self.list_commands(ctx))
            raise click.UsageError(f"missing {self.what} — give one of: {names}", ctx)
        return super().parse_args(ctx, args)
