"""The ``lastmile`` program: the group of commands and :func:`main`, which runs it.

:func:`main` runs the click group without click's own exit handling, so that tests can call
it and every usage error comes out as one line, ``error: lastmile CMD: what is wrong (see
`lastmile CMD --help`)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from api.cli import (
    demo_command,
    import_command,
    keys_command,
    link_command,
    plan_command,
    serve_command,
    simulate_command,
)
from api.cli.output import error
from api.cli.parsing import CONTEXT_SETTINGS, Group

__all__ = ["cli", "main"]


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
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


for _module in (
    demo_command,
    import_command,
    keys_command,
    link_command,
    plan_command,
    serve_command,
    simulate_command,
):
    cli.add_command(_module.command)


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
