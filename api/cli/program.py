"""The ``lastmile`` program: the group of commands and :func:`main`, which runs it.

:func:`main` runs the click group without click's own exit handling, so that tests can call
it and every usage error comes out as one line, ``error: lastmile CMD: what is wrong (see
`lastmile CMD --help`)``.

The group is lazy (:class:`LazyGroup`): :data:`COMMANDS` names each command's module and
one-line help, and a module is imported only when its command runs or shows its own help.
``lastmile --version`` and ``lastmile --help`` so import click and nothing of the
orchestrator (about 0.06 s of CPU instead of 2 s); a new command is a module with a
``command`` attribute and a row in :data:`COMMANDS` (a test fails until both agree).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from api.cli.output import error
from api.cli.parsing import CONTEXT_SETTINGS, Group

__all__ = ["COMMANDS", "LazyGroup", "Listed", "cli", "main"]


class Listed(NamedTuple):
    """A command as the group lists it before importing it."""

    module: str
    """The module that defines it (its ``command`` attribute)."""
    summary: str
    """Its one-line help, as ``lastmile --help`` shows it: the command's ``short_help``."""


COMMANDS: dict[str, Listed] = {
    "demo": Listed(
        "api.cli.demo_command",
        "seed a realistic delivery day into the store, plan it, draw it on a map",
    ),
    "import": Listed("api.cli.import_command", "register the orders of a CSV file"),
    "keys": Listed("api.cli.keys_command", "manage API keys"),
    "link": Listed(
        "api.cli.link_command",
        "print a signed link to an order's page (or a route's manifest)",
    ),
    "plan": Listed("api.cli.plan_command", "plan a depot's day from the store"),
    "serve": Listed("api.cli.serve_command", "serve the HTTP API with uvicorn"),
    "simulate": Listed("api.cli.simulate_command", "run a what-if scenario or a sweep of them"),
}
"""Every command: its name, its module and its one-line help. A command's module (which
imports the orchestrator, the simulator, the database…) is imported only when that command
runs or shows its own help, so ``lastmile --version`` and ``lastmile --help`` start in a
fraction of the time. ``tests/api/test_cli.py`` checks this table against the modules."""


class LazyGroup(Group):
    """A :class:`~api.cli.parsing.Group` whose commands are imported on first use.

    Parameters
    ----------
    lazy
        The commands by name (:data:`COMMANDS`); the rest as :class:`~api.cli.parsing.Group`.
    """

    def __init__(self, *args: Any, lazy: dict[str, Listed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, imported or not, in alphabetical order."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module the first time it is asked for."""
        if cmd_name in self.lazy and cmd_name not in self.commands:
            command = importlib.import_module(self.lazy[cmd_name].module).command
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise RuntimeError(f"{self.lazy[cmd_name].module}.command is not {cmd_name!r}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's resolution; a mistyped name is matched against every command for its
        "Did you mean" (click's own looks only at the commands already imported)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section of ``--help``, from the table: no command is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.lazy and name not in self.commands:
                summary = self.lazy[name].summary  # as click shows a short_help: whole
            else:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                summary = command.get_short_help_str(limit)
            rows.append((name, summary))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings=CONTEXT_SETTINGS)
@click.version_option(
    None,  # read from the installed package's metadata (importlib.metadata)
    "-V",
    "--version",
    package_name="lastmile",
    prog_name="lastmile",
    message="%(prog)s %(version)s",
    help="print the installed version of lastmile and exit",
)
def cli() -> None:
    """Open-source last-mile logistics orchestrator."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lastmile`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name; ``None`` reads :data:`sys.argv`.

    Returns
    -------
    int
        The exit code: 0 success, 1 failure, 2 bad arguments (or an import file with errors),
        130 interrupted.
    """
    args = None if argv is None else list(argv)
    try:
        code = cli.main(args=args, prog_name="lastmile", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "lastmile"
        # One line: click's messages for choices span several.
        message = " ".join(exc.format_message().split())
        error(where, f"{message} (see `{where} --help`)")
        return 2
    except click.ClickException as exc:
        error("lastmile", " ".join(exc.format_message().split()))
        return exc.exit_code
    except click.Abort:
        error("lastmile", "interrupted")
        return 130
    return code if isinstance(code, int) else 0
