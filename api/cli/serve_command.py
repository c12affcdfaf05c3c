"""``lastmile serve``: the HTTP API (:func:`api.app.create_app`) served by uvicorn on one or
several processes (:func:`api.runtime.serve.serve`)."""

from __future__ import annotations

import click

from api.cli.output import error
from api.cli.parsing import Whole
from orchestrator.errors import OrchestratorError

__all__ = ["command"]


class _ServeCommand(click.Command):
    """``serve``, whose help ends with every environment variable the server reads."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The variables of :mod:`api.cli.settings_table` (the README's table, shortened)."""
        from api.cli.settings_table import help_rows

        with formatter.section("Environment variables (the README's table says more)"):
            formatter.write_dl(help_rows(), col_max=32)
        super().format_epilog(ctx, formatter)


@click.command(
    "serve",
    cls=_ServeCommand,
    short_help="serve the HTTP API with uvicorn",
    help=(
        "Serve the HTTP API (OpenAPI docs at /docs) on the store LASTMILE_DATABASE_URL "
        "names (default ./var/lastmile.db; created or migrated on start)."
    ),
)
@click.option("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
@click.option("--port", type=Whole(1, 65_535), default=8000, help="TCP port (default 8000)")
@click.option(
    "--workers",
    type=Whole(1, 64),
    default=1,
    help="server processes sharing the port, one per core (default 1)",
)
@click.option(
    "--log-level",
    type=click.Choice(("critical", "error", "warning", "info", "debug")),
    default="info",
    help="uvicorn's log level (default info)",
)
def command(host: str, port: int, workers: int, log_level: str) -> int:
    """Serve until interrupted; the exit code."""
    # Imported here: the web stack is not needed by the other commands.
    from api.app import create_app
    from api.runtime.serve import serve

    try:
        app = create_app()  # a bad setting fails here, in one line, not in every worker
    except Exception as exc:  # a bad LASTMILE_* setting or an unreachable store
        error("lastmile serve", str(exc))
        return 1
    processes = f", {workers} processes" if workers > 1 else ""
    click.echo(f"lastmile serve: http://{host}:{port} (docs at /docs){processes}")
    try:
        return serve(
            host, port, workers=workers, log_level=log_level, app=app if workers == 1 else None
        )
    except OrchestratorError as exc:
        error("lastmile serve", str(exc))
        return 1
