"""``lastmile import``: register the orders of a CSV file, all or none
(:func:`orchestrator.intake.importer.import_orders`; the columns are in ``docs/import.md``)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from api.cli.output import error, store_url
from api.cli.progress import Progress
from orchestrator.errors import OrchestratorError
from orchestrator.intake.importer import ImportRejected, import_orders
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema

__all__ = ["command"]


@click.command(
    "import",
    short_help="register the orders of a CSV file",
    help=(
        "Register the orders of ORDERS.CSV in the store LASTMILE_DATABASE_URL names. One row "
        "per item; the rows of one order share its order_key and follow each other (the "
        "columns are described in docs/import.md). All or nothing: a file with errors imports "
        "nothing, and every error is listed as FILE:LINE:COLUMN: what to fix. Importing a file "
        "again adds only the orders that are not in the store yet."
    ),
)
@click.argument(
    "orders_csv",
    metavar="ORDERS.CSV",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="check the file against the store and show what would be imported; write nothing",
)
def command(orders_csv: Path, dry_run: bool) -> int:
    """Import the file (or check it, with ``--dry-run``) and print what it did; the exit
    code: 2 when the file has errors, each listed as ``FILE:LINE:COLUMN: message``."""
    try:
        bars = _Bars(orders_csv)
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            summary = import_orders(engine, orders_csv, dry_run=dry_run,
                                    progress=bars.checked, registering=bars.registered)  # fmt: skip
        finally:
            engine.dispose()
    except ImportRejected as exc:
        count = f"{len(exc.errors)} error{'' if len(exc.errors) == 1 else 's'}"
        bars.end(None, count)
        if exc.truncated:
            count += f" (reading stopped after {len(exc.errors)})"
        error(
            "lastmile import",
            f"{orders_csv}: {count}, so nothing was imported — fix them and import the file again",
        )
        for problem in exc.errors:
            click.echo(
                f"{orders_csv}:{':'.join(str(p) for p in problem.field[1:])}: {problem.message}",
                err=True,
            )
        return 2
    except OSError as exc:
        error("lastmile import", f"cannot read {orders_csv}: {exc}")
        return 1
    except (OrchestratorError, sa.exc.SQLAlchemyError) as exc:  # the store failed
        bars.end(None, "failed")
        error("lastmile import", str(exc))
        return 1
    bars.end(summary.rows)
    store = store_url(settings.database_url)
    if summary.dry_run:
        click.echo(
            f"dry run of {orders_csv} against {store}: {summary.rows} rows, {summary.orders} "
            f"orders: {summary.created} would be created, {summary.already_present} already "
            f"present; {summary.customers_created} customers and {summary.places_created} "
            "places would be created — nothing was written"
        )
    else:
        click.echo(
            f"imported {orders_csv} into {store}: {summary.rows} rows, {summary.orders} orders: "
            f"{summary.created} created, {summary.already_present} already present; "
            f"{summary.customers_created} customers and {summary.places_created} places created"
        )
    return 0


class _Bars:
    """The import's progress: ``checking FILE`` while the rows are read and checked, then
    ``registering FILE`` while they are read again and registered (a SQLite store, where
    the file is checked on a copy first); counted in rows of the file, whose lines are
    counted first (a quick read) for the total."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        with path.open("rb") as file:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
        self.rows = max(lines - 1, 1)  # the header is no row; the last line may lack "\n"
        self.checking = Progress(f"checking {self.name}", self.rows, unit="rows")
        self.checking.update(0)
        self.registering: Progress | None = None

    def checked(self, rows: int) -> None:
        """Rows read and checked so far (``import_orders``' ``progress``)."""
        self.checking.update(rows)

    def registered(self, rows: int) -> None:
        """Rows read and registered so far (its ``registering``): the check is over."""
        if self.registering is None:
            self._finish(self.checking, self.rows)
            self.registering = Progress(f"registering {self.name}", self.rows, unit="rows")
        self.registering.update(rows)

    def end(self, rows: int | None, note: str = "") -> None:
        """Finish the bars: all ``rows`` done, or (``None``) where they stopped, with ``note``."""
        for bar in (self.checking, self.registering):
            if bar is not None:
                self._finish(bar, rows, note)

    def _finish(self, bar: Progress, rows: int | None, note: str = "") -> None:
        if rows is not None:  # the rows read: blank lines and quoted line breaks are none
            bar.total = max(rows, 1)
            bar.done = bar.total
        elif note != "failed":  # the rows were all read: the errors are listed at the end
            bar.done = bar.total
        bar.finish(note)
