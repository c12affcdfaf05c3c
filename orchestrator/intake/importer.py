"""Importing orders from a CSV file: a shop's or a planner's export in, registered orders out.

The file
--------
UTF-8 text (a byte-order mark is fine), comma-, semicolon- or tab-separated (read from the
header), with a header line naming the columns. Every data row is **one item** of an order;
the rows that share an ``order_key`` are the items of one order and must follow each other.
An order of one item is one row. The order's own columns (everything but the item columns)
are read from its first row; its later rows may leave them empty or repeat them unchanged.

Columns (names are case-insensitive; the order of the columns does not matter):

======================= ======== ===================================================================
column                  needed   meaning
======================= ======== ===================================================================
``order_key``           yes      the order's idempotency key, unique per order (the shop's order
                                 number will do); importing a row whose order is already stored
                                 under its key changes nothing
``depot``               yes      code (``HEL1``) or id of the depot that delivers it
``service_day``         yes      the depot's local date of delivery, ``YYYY-MM-DD``
``customer_id``         one of   id of a customer in the store
``customer_email``      these    when there is no ``customer_id``: the customer with this email
                                 (case-insensitive); a customer is created when none has it
``customer_name``                the name of a customer the import creates
``customer_phone``               the phone number of a customer the import creates
``place``               one of   name of one of the customer's places (``home``, ``office``); a
                        these    place of that name is added at ``lat``/``lon`` when the customer
                                 has none
``lat``, ``lon``                 the delivery point, WGS84 decimal degrees; without ``place``,
                                 the customer's place at that point is used, or one is added
                                 (named after ``address``, else ``home``)
``place_kind``                   kind of a place the import adds: home, office, cafe, locker,
                                 other (default: the place's name when it is a kind, else home)
``address``                      street address of a place the import adds
``window_start``                 start of the delivery window: a time of day (``09:00``, in the
                                 depot's timezone on the service day) or a date-time with offset
                                 (``2025-03-03T09:00+02:00``); give both ends or neither
``window_end``                   end of the delivery window, after its start
``mode``                         hand_over, leave_at_door or locker (empty: not chosen yet)
``value_cents``                  value of the goods, cents (default 0)
``fragile``                      true/false, yes/no or 1/0 (empty: no)
``signature_required``           idem
``cold_chain``                   idem
``reference``                    the shop's order number, shown to planners
``description``         item     what the item is
``quantity``            item     units of the item (default 1)
``weight_g``            yes,item mass of one unit, grams
``volume_ml``           yes,item volume of one unit, millilitres (= cm³)
``parcels``             item     parcels one unit ships in (default 1)
``sku``                 item     the product's stock-keeping unit (see ``/products``); a line
                                 needs one to be returnable later
======================= ======== ===================================================================

Columns whose name starts with ``#`` are ignored (keep your own notes there); any other
unknown column is an error, so that a misspelt ``fragle`` cannot silently drop a flag.

All or nothing
--------------
The import runs in **one transaction**: either every order of the file is registered (or
found already registered) or, when any row is wrong, nothing is written at all and
:class:`ImportRejected` lists every error — line, column, what is wrong and how to fix it (at
most :data:`MAX_ERRORS`; then the import stops reading). Orders are registered through
:func:`orchestrator.intake.orders.register_order`, so importing the same file twice registers its
orders once, and an ``order_key`` already used for a *different* order is an error.
Customers and places the import creates are part of the same transaction. A dry run does all
of this, reports what it would have done, and rolls back.

Rows are streamed: the file is never held in memory, only the keys seen so far (to refuse an
order whose rows are scattered).

Other writers are not locked out
--------------------------------
PostgreSQL locks only the rows an import writes, so there the import is one transaction. A
SQLite store has one writer at a time, and one transaction of 10,000 orders (40 s) kept the
API's writes waiting until they failed. There the import goes in two steps: the whole file is
first imported into a copy of the store (SQLite's online backup; nothing of the store is
locked meanwhile) in one transaction that is rolled back — this is where every error is
found, and a file with any error stops here with nothing written; a dry run ends here. Then
the file, now known to import cleanly, is registered in the store in transactions of
:data:`PUBLISH_HOLD_S` seconds with :data:`PUBLISH_PAUSE_S` between them, so other writers
wait a fraction of a second. Should a row fail in this second step all the same (the store
changed in between: the same ``order_key`` registered with other content), or the process be
killed, the orders of the transactions already committed stay; importing the file again
registers the rest and only the rest.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import itertools
import os
import sqlite3
import tempfile
import time as _time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, InvalidInput
from orchestrator.intake.catalog import add_place, create_customer, customer_places, same_point
from orchestrator.intake.csv_columns import (
    COLUMNS,
    ITEM_COLUMNS,
    KIND_NAMES,
    PARSERS,
    REQUIRED,
    BadCell,
    degrees,
)
from orchestrator.intake.orders import register_order
from orchestrator.models import Customer, Depot, Order, PlaceKind
from orchestrator.store.engine import create_engine

__all__ = [
    "COLUMNS",
    "ITEM_COLUMNS",
    "MAX_ERRORS",
    "PROGRESS_EVERY",
    "PUBLISH_HOLD_S",
    "PUBLISH_PAUSE_S",
    "ImportRejected",
    "ImportSummary",
    "import_orders",
]

MAX_ERRORS = 1_000
"""Errors reported at most; the import stops reading the file after this many."""

PUBLISH_HOLD_S = 0.5
"""Seconds a write transaction of an import into a SQLite store lasts at most (it commits
after the order that passes this); other writers wait that long at most instead of the whole
import."""

PUBLISH_PAUSE_S = 0.12
"""Seconds the import lets the store be between two of its transactions: longer than the
100 ms a waiting SQLite writer sleeps between two tries, so a waiting writer gets in (else
the import, taking the lock again at once, would starve it)."""

PROGRESS_EVERY = 1_000
"""Rows between two calls of the ``progress`` callback."""

_CACHE_SIZE = 10_000
"""Entries per look-up cache (customers, their places) before it starts afresh."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (or, for a dry run, would have done; nothing was written then)."""

    rows: int
    """Data rows read (the header and blank lines not counted)."""
    orders: int
    """Orders in the file."""
    created: int
    """Orders registered by this import."""
    already_present: int
    """Orders that were already registered under their ``order_key``, with the same content."""
    customers_created: int
    places_created: int
    dry_run: bool


class ImportRejected(InvalidInput):
    """The file has errors, so nothing was imported.

    ``errors`` lists every error in file order; each is an :class:`InvalidInput` whose
    ``field`` is ``("row", line, column)`` — the line number in the file (the header is line
    1) and the column's name — or ``("row", line)`` for a line that cannot be read at all.
    ``truncated`` says the import stopped reading after :data:`MAX_ERRORS` errors.
    """

    def __init__(self, errors: Iterable[InvalidInput], *, truncated: bool = False) -> None:
        self.errors: tuple[InvalidInput, ...] = tuple(errors)
        self.truncated = truncated
        if not self.errors:
            raise ValueError("ImportRejected needs at least one error")
        first = self.errors[0]
        count = f"{len(self.errors)}{' or more' if truncated else ''}"
        plural = "" if len(self.errors) == 1 and not truncated else "s"
        super().__init__(
            first.field,
            f"{first.message} ({count} error{plural} in the file; nothing was imported — fix "
            "them and import the file again)",
        )


class _TooManyErrors(Exception):
    """Raised inside the import when :data:`MAX_ERRORS` is reached."""


def import_orders(
    engine: Engine,
    source: str | os.PathLike[str] | Iterable[str],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    registering: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Register every order of a CSV file, in one transaction; all of them or none.

    Parameters
    ----------
    engine
        The store, migrated (:func:`orchestrator.store.engine.ensure_schema`). The import opens its
        own connection and transaction, so it takes an engine rather than a session.
    source
        Path of the CSV file (UTF-8), or an iterable of its lines (for instance a text
        stream opened with ``newline=""``). The columns are described in the module's
        documentation and in ``docs/import.md``.
    dry_run
        Check everything against the store and report what would be imported, then roll
        back: nothing is written.
    progress
        Called with the number of rows read every :data:`PROGRESS_EVERY` rows (to show
        progress on big files).
    registering
        The same, for the second reading of a file checked on a copy of a SQLite store
        first, which registers the orders (never called otherwise).

    Returns
    -------
    ImportSummary
        Rows and orders read, orders created and already present, customers and places
        created.

    Raises
    ------
    ImportRejected
        The file has errors (all of them listed, up to :data:`MAX_ERRORS`); nothing was
        written.
    OSError
        The file cannot be opened.
    """
    if _stages(engine):
        with _spooled(source) as path:
            with _staging(engine) as staging:
                checked = _run(staging, path, progress, keep=False)
            if dry_run:
                return checked.summary(True)
            return _run(engine, path, registering, keep=True, chunked=True).summary(False)
    return _run(engine, source, progress, keep=not dry_run).summary(dry_run)


def _run(
    engine: Engine,
    source: str | os.PathLike[str] | Iterable[str],
    progress: Callable[[int], None] | None,
    *,
    keep: bool,
    chunked: bool = False,
) -> _Import:
    """Read and register the whole file in one transaction, committed when ``keep`` (else
    rolled back); ``chunked``, in transactions of :data:`PUBLISH_HOLD_S` (SQLite)."""
    with _lines(source) as lines:
        try:
            first = next(lines, None)
        except UnicodeDecodeError as exc:
            raise ImportRejected([_unreadable(1, exc)]) from None
        if first is None or not first.strip():
            raise ImportRejected(
                [
                    InvalidInput(
                        ("row", 1),
                        "the file is empty — its first line must name the columns "
                        "(see docs/import.md)",
                    )
                ]
            )
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
        except csv.Error:  # a single column: nothing to choose
            delimiter = ","
        # Only the delimiter is sniffed: the rest is the standard (excel) dialect, with
        # doubled quotes inside quoted values.
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        try:
            names = next(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportRejected([_unreadable(1, exc)]) from None
        columns = _header(names)
        with _transaction(engine) as connection:
            session = Session(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            try:
                run = _Import(session, columns, width=len(names))
                if chunked:
                    run.checkpoint = _Checkpoint(connection, session)
                run.read(reader, progress)
            finally:
                session.close()
            if run.errors:
                raise ImportRejected(run.errors, truncated=run.truncated)
            if keep:
                connection.commit()
            else:
                connection.rollback()
    return run


def _stages(engine: Engine) -> bool:
    """Whether the import checks the file on a copy first: a SQLite file (one writer at a
    time for the whole store; a server database locks only the rows it writes)."""
    url = engine.url
    database = url.database or ""
    return (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    )


@contextmanager
def _spooled(
    source: str | os.PathLike[str] | Iterable[str],
) -> Iterator[str | os.PathLike[str]]:
    """``source`` as a file that can be read twice (lines given are written to one)."""
    if isinstance(source, str | os.PathLike):
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="lastmile-import-") as folder:
        path = Path(folder) / "orders.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            file.writelines(source)
        yield path


@contextmanager
def _staging(engine: Engine) -> Iterator[Engine]:
    """An engine on a copy of the store (SQLite's online backup: consistent, and readers and
    writers of the store go on meanwhile), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lastmile-import-") as folder:
        path = Path(folder) / "staging.db"
        raw = engine.raw_connection()
        try:
            copy = sqlite3.connect(path)
            try:
                raw.driver_connection.backup(copy)  # type: ignore[union-attr]  # sqlite3 here
            finally:
                copy.close()
        finally:
            raw.close()
        staging = create_engine(f"sqlite:///{path}")
        try:
            yield staging
        finally:
            staging.dispose()


class _Checkpoint:
    """Commits what an import has registered once its transaction has lasted
    :data:`PUBLISH_HOLD_S`, pauses, and takes the write lock again (SQLite)."""

    def __init__(self, connection: sa.Connection, session: Session) -> None:
        self.connection, self.session = connection, session
        self.since = _time.monotonic()

    def __call__(self) -> None:
        if _time.monotonic() - self.since < PUBLISH_HOLD_S:
            return
        self.session.commit()  # no savepoint of the session stays open across the commit
        self.connection.exec_driver_sql("COMMIT")
        _time.sleep(PUBLISH_PAUSE_S)
        self.connection.exec_driver_sql("BEGIN IMMEDIATE")
        self.since = _time.monotonic()


@contextmanager
def _lines(source: str | os.PathLike[str] | Iterable[str]) -> Iterator[Iterator[str]]:
    """The lines of ``source``; a file is decoded line by line, so that a byte that is not
    UTF-8 is reported on its own line (a text stream decodes whole blocks ahead)."""
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as file:
            yield _decoded(file)
    else:
        yield iter(source)


def _decoded(lines: Iterable[bytes]) -> Iterator[str]:
    for number, raw in enumerate(lines, 1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]  # spreadsheets' "CSV UTF-8" starts with a BOM
        yield raw.decode("utf-8")


@contextmanager
def _transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A connection inside a real transaction that services' commits cannot end.

    The session on it runs in ``create_savepoint`` mode, so a service's ``commit`` releases a
    savepoint and the transaction commits (or rolls back) only here. sqlite3's legacy
    transaction control emits no BEGIN before a SAVEPOINT, which would make each released
    savepoint a commit of its own; SQLAlchemy's documented remedy is to take the BEGIN over
    (see "Transactions with SQLite and the sqlite3 driver"). ``IMMEDIATE`` takes the write
    lock at once, so a concurrent writer cannot make the import fail half-way.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.begin()
        yield connection  # closing without commit rolls back


# -- the header ---------------------------------------------------------------------------------


def _unreadable(line: int, exc: UnicodeDecodeError | csv.Error) -> InvalidInput:
    if isinstance(exc, UnicodeDecodeError):
        return InvalidInput(
            ("row", line),
            "is not UTF-8 text — save the file as UTF-8 ('CSV UTF-8' in spreadsheet "
            "programs) and import it again",
        )
    return InvalidInput(("row", line), f"cannot be read as CSV ({exc}) — check its quoting")


def _header(names: list[str]) -> dict[str, int]:
    """Column name -> position; every problem of the header at once."""
    errors: list[InvalidInput] = []
    columns: dict[str, int] = {}

    def error(column: str, message: str) -> None:
        errors.append(InvalidInput(("row", 1, column), message))

    for position, raw in enumerate(names):
        name = raw.strip().lower()
        if name.startswith("#"):
            continue
        if not name:
            error(f"#{position + 1}", f"column {position + 1} has no name — name it or delete it")
        elif name in columns:
            error(name, f"column {name!r} appears twice — keep one of them")
        elif name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"did you mean {close[0]!r}? Rename it" if close else "rename it"
            error(
                name,
                f"unknown column {name!r} — {hint}, or start its name with '#' to keep it "
                "out of the import (the columns are listed in docs/import.md)",
            )
        else:
            columns[name] = position
    for name in REQUIRED:
        if name not in columns:
            error(name, f"the header has no column {name!r} — add it ({COLUMNS[name]})")
    if "customer_id" not in columns and "customer_email" not in columns:
        error(
            "customer_email",
            "the header has neither customer_id nor customer_email — add one of them to say "
            "whose order each row is",
        )
    for one, other in (("lat", "lon"), ("lon", "lat"), ("window_start", "window_end")):
        if one in columns and other not in columns:
            error(other, f"the header has {one} but no {other} — add the {other} column")
    if "window_end" in columns and "window_start" not in columns:
        error("window_start", "the header has window_end but no window_start — add it")
    if "place" not in columns and "lat" not in columns and "lon" not in columns:
        error(
            "lat",
            "the header says nowhere to deliver — add lat and lon columns (the delivery point) "
            "or a place column (the name of one of the customer's places)",
        )
    if errors:
        raise ImportRejected(errors)
    return columns


# -- the import ---------------------------------------------------------------------------------


@dataclass
class _Order:
    """An order being read: its first row's order cells and values, and its items."""

    key: str
    line: int
    cells: dict[str, str]
    values: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)
    bad: bool = False


class _Import:
    """One run over a file: parses rows, groups them into orders, registers each order."""

    def __init__(self, session: Session, columns: dict[str, int], *, width: int) -> None:
        self.session = session
        self.columns = columns
        self.width = width
        self.order_columns = [c for c in columns if c not in ITEM_COLUMNS]
        self.item_columns = [c for c in columns if c in ITEM_COLUMNS]
        self.errors: list[InvalidInput] = []
        self.truncated = False
        self.rows = self.orders = self.created = self.present = 0
        self.customers_created = self.places_created = 0
        self.seen: dict[str, int] = {}  # order_key -> first line
        self.depots: dict[str, Depot | None] = {}
        self.customer_ids: dict[int, bool] = {}
        self.by_email: dict[str, list[int]] = {}
        self.places: dict[int, list[_Spot]] = {}
        self.checkpoint: Callable[[], None] | None = None
        """Called after each order registered (chunked commits)."""

    def summary(self, dry_run: bool) -> ImportSummary:
        return ImportSummary(
            rows=self.rows,
            orders=self.orders,
            created=self.created,
            already_present=self.present,
            customers_created=self.customers_created,
            places_created=self.places_created,
            dry_run=dry_run,
        )

    def error(self, line: int, column: str | None, message: str) -> None:
        where: tuple[str | int, ...] = ("row", line) if column is None else ("row", line, column)
        self.errors.append(InvalidInput(where, message))
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True
            raise _TooManyErrors

    # -- reading ------------------------------------------------------------------------------

    def read(self, reader: Iterator[list[str]], progress: Callable[[int], None] | None) -> None:
        pending: _Order | None = None
        width = self.width
        try:
            while True:
                line = reader.line_num + 1  # type: ignore[attr-defined]  # csv.reader objects have line_num
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except (UnicodeDecodeError, csv.Error) as exc:
                    unreadable = _unreadable(line, exc)
                    self.error(line, None, unreadable.message)
                    break
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, or a spreadsheet's empty row
                self.rows += 1
                if progress is not None and self.rows % PROGRESS_EVERY == 0:
                    progress(self.rows)
                if len(row) < width or (len(row) > width and _spills(row, width)):
                    self.error(
                        line,
                        None,
                        f"has {len(row)} fields where the header has {width} columns — check "
                        "the quoting: a value containing the delimiter needs double quotes",
                    )
                    if pending is not None:
                        pending.bad = True
                    continue
                pending = self.row(row, line, pending)
            if pending is not None:
                self.finish(pending)
        except _TooManyErrors:
            pass

    def row(self, row: list[str], line: int, pending: _Order | None) -> _Order | None:
        """Add one row to the order being read, or finish that order and start the next."""
        cells = {c: row[i].strip() for c, i in self.columns.items()}
        key = cells["order_key"]
        if not key:
            self.error(line, "order_key", f"is empty — give {COLUMNS['order_key']}")
            if pending is not None:
                pending.bad = True
            return pending
        if pending is not None and key == pending.key:
            self.more_of(pending, cells, line)
            return pending
        if pending is not None:
            self.finish(pending)
        if key in self.seen:
            self.error(
                line,
                "order_key",
                f"order_key {key!r} was used on line {self.seen[key]} already — put the rows "
                "of one order next to each other, or give each order its own key",
            )
            return None
        self.seen[key] = line
        self.orders += 1
        order = _Order(key, line, {c: cells[c] for c in self.order_columns}, {})
        order.values = self.parse(cells, line, self.order_columns, order)
        self.check_order(order)
        self.add_item(order, cells, line)
        return order

    def parse(
        self, cells: dict[str, str], line: int, columns: list[str], order: _Order
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in columns:
            text = cells[column]
            if not text:
                if column in REQUIRED:
                    self.error(line, column, f"is empty — give {COLUMNS[column]}")
                    order.bad = True
                values[column] = None
                continue
            try:
                if column in ("lat", "lon"):
                    other = cells.get("lon" if column == "lat" else "lat", "")
                    values[column] = degrees(text, column, other)
                else:
                    values[column] = PARSERS[column](text, column)
            except BadCell as exc:
                self.error(line, column, str(exc))
                order.bad = True
                values[column] = None
        return values

    def check_order(self, order: _Order) -> None:
        """The rules between an order's cells that need no store."""
        cells, line = order.cells, order.line
        if not cells.get("customer_id") and not cells.get("customer_email"):
            column = "customer_email" if "customer_email" in cells else "customer_id"
            self.error(line, column, "is empty — give customer_id or customer_email")
            order.bad = True
        for one, other in (("lat", "lon"), ("window_start", "window_end")):
            if bool(cells.get(one)) != bool(cells.get(other)):
                missing = other if cells.get(one) else one
                self.error(line, missing, f"is empty — give {one} and {other}, or neither")
                order.bad = True
        if not cells.get("place") and not cells.get("lat") and not cells.get("lon"):
            self.error(
                line,
                "lat" if "lat" in cells else "place",
                "is empty, and so is place — give lat and lon of the delivery point, or the "
                "name of one of the customer's places in the place column",
            )
            order.bad = True

    def more_of(self, order: _Order, cells: dict[str, str], line: int) -> None:
        """A later row of ``order``: its order cells are empty or repeat the first row's."""
        for column in self.order_columns:
            text, first = cells[column], order.cells[column]
            if text and text != first:
                self.error(
                    line,
                    column,
                    f"{text!r} differs from {first!r} on line {order.line}, the first row of "
                    f"order {order.key!r} — the rows of one order must agree on {column} (or "
                    "leave it empty on the later rows)",
                )
                order.bad = True
        self.add_item(order, cells, line)

    def add_item(self, order: _Order, cells: dict[str, str], line: int) -> None:
        values = self.parse(cells, line, self.item_columns, order)
        item = {k: v for k, v in values.items() if v is not None}
        order.items.append(item)
        order.item_lines.append(line)

    # -- writing ------------------------------------------------------------------------------

    def finish(self, order: _Order) -> None:
        """Resolve the order's depot, customer and place, and register it.

        The depot and the window are checked even when a cell of the order is wrong, so that
        one run reports them too; customers and places are looked up (and created) only for
        orders without errors.
        """
        values, line = order.values, order.line
        depot = self.depot(values["depot"], line) if values.get("depot") else None
        window = self.window(order, depot)
        if order.bad or depot is None or window is None:
            return
        customer_id = self.customer(values, line)
        if customer_id is None:
            return
        place_id = self.place(customer_id, values, line)
        if place_id is None:
            return
        data = {
            "customer_id": customer_id,
            "depot_id": depot.id,
            "service_day": values["service_day"],
            "place_id": place_id,
            "window_start": window[0],
            "window_end": window[1],
            "mode": values.get("mode"),
            "value_cents": values.get("value_cents") or 0,
            "fragile": bool(values.get("fragile")),
            "signature_required": bool(values.get("signature_required")),
            "cold_chain": bool(values.get("cold_chain")),
            "reference": values.get("reference"),
            "items": order.items,
        }
        known = self.session.exec(  # keys are per customer (register_order)
            select(Order.id).where(
                Order.customer_id == customer_id, Order.idempotency_key == order.key
            )
        )
        already = known.first() is not None
        try:
            register_order(self.session, data, order.key)
        except Conflict as exc:
            self.error(line, "order_key", str(exc))
            return
        except InvalidInput as exc:
            self.error(*self.locate(exc, order), exc.message)
            return
        if already:
            self.present += 1
        else:
            self.created += 1
        if self.checkpoint is not None:
            self.checkpoint()

    def locate(self, exc: InvalidInput, order: _Order) -> tuple[int, str | None]:
        """The line and column of an error :func:`register_order` found."""
        path = exc.field
        if len(path) == 3 and path[0] == "items" and isinstance(path[1], int):
            return order.item_lines[path[1]], str(path[2])
        column = {"customer_id": "customer_id", "depot_id": "depot", "place_id": "place"}
        name = str(path[0]) if path else ""
        return order.line, column.get(name, name if name in COLUMNS else None)

    def depot(self, text: str, line: int) -> Depot | None:
        if text not in self.depots:
            depot = self.session.exec(select(Depot).where(Depot.code == text)).first()
            if depot is None and text.isdigit():
                depot = self.session.get(Depot, int(text))
            self.depots[text] = depot
        depot = self.depots[text]
        if depot is None:
            codes = self.session.exec(select(Depot.code).order_by(col(Depot.id)).limit(6)).all()
            known = f"the store has {', '.join(codes[:5])}{', ...' if len(codes) > 5 else ''}"
            self.error(
                line,
                "depot",
                f"no depot {text!r} — give the code or id of a depot in the store ("
                f"{known if codes else 'the store has no depot yet: create it first'})",
            )
        return depot

    def window(
        self, order: _Order, depot: Depot | None
    ) -> tuple[datetime | None, datetime | None] | None:
        """The window as aware date-times, ``(None, None)`` for none, ``None`` when wrong."""
        start, end = order.values.get("window_start"), order.values.get("window_end")
        if start is None or end is None:
            return None, None
        # Without a valid day or depot, times of day still compare on any one day.
        day: date = order.values.get("service_day") or date(2000, 1, 1)
        zone = ZoneInfo(depot.timezone) if depot is not None else UTC

        def at(moment: datetime | time) -> datetime:
            if isinstance(moment, datetime):
                return moment
            return datetime.combine(day, moment.replace(tzinfo=None), moment.tzinfo or zone)

        first, last = at(start), at(end)
        if last <= first:
            self.error(
                order.line,
                "window_end",
                f"the window ends at {order.cells['window_end']}, not after it starts at "
                f"{order.cells['window_start']} — swap window_start and window_end (a window "
                "past midnight needs date-times with offset)",
            )
            return None
        return first, last

    def customer(self, values: dict[str, Any], line: int) -> int | None:
        """The order's customer: by id, or by email (created when unknown)."""
        customer_id: int | None = values.get("customer_id")
        if customer_id is not None:
            if customer_id not in self.customer_ids:
                self.remember(self.customer_ids)
                found = self.session.get(Customer, customer_id) is not None
                self.customer_ids[customer_id] = found
            if not self.customer_ids[customer_id]:
                self.error(
                    line,
                    "customer_id",
                    f"no customer {customer_id} — give the id of a customer in the store, or "
                    "leave customer_id empty and give customer_email (and customer_name) to "
                    "find or create them",
                )
                return None
            return customer_id
        email: str = values["customer_email"]
        ids = self.by_email.get(email.lower())
        if ids is None:
            self.remember(self.by_email)
            ids = [
                i
                for i in self.session.exec(
                    select(Customer.id)
                    .where(sa.func.lower(Customer.email) == email.lower())
                    .order_by(col(Customer.id))
                ).all()
                if i is not None
            ]
            self.by_email[email.lower()] = ids
        if len(ids) > 1:
            self.error(
                line,
                "customer_email",
                f"{len(ids)} customers have the email {email!r} (ids "
                f"{', '.join(map(str, ids))}) — give customer_id to say which",
            )
            return None
        if ids:
            return ids[0]
        name = values.get("customer_name")
        if not name:
            self.error(
                line,
                "customer_name",
                f"no customer has the email {email!r} yet, so the import creates one — give "
                "their name",
            )
            return None
        customer = create_customer(
            self.session, {"name": name, "email": email, "phone": values.get("customer_phone")}
        )
        assert customer.id is not None
        self.customers_created += 1
        self.by_email[email.lower()] = [customer.id]
        self.remember(self.places)
        self.places[customer.id] = []
        return customer.id

    def place(self, customer_id: int, values: dict[str, Any], line: int) -> int | None:
        """The order's place id: the named place, the place at the point, or a new place."""
        if customer_id not in self.places:
            self.remember(self.places)
            self.places[customer_id] = [
                _Spot(p.id or 0, p.name, p.lat, p.lon)
                for p in customer_places(self.session, customer_id)
            ]
        places = self.places[customer_id]
        name: str | None = values.get("place")
        lat: float | None = values.get("lat")
        lon: float | None = values.get("lon")
        if name is not None:
            named = next((p for p in places if p.name == name), None)
            if named is not None:
                if (
                    lat is not None
                    and lon is not None
                    and not same_point(named.lat, named.lon, lat, lon)
                ):
                    self.error(
                        line,
                        "lat",
                        f"customer {customer_id}'s place {name!r} is at {named.lat}, "
                        f"{named.lon}, not {lat}, {lon} — give another place name for a new "
                        "point, or leave lat and lon empty to deliver to the stored one",
                    )
                    return None
                return named.id
            if lat is None or lon is None:
                known = ", ".join(repr(p.name) for p in places[:5]) or "none yet"
                self.error(
                    line,
                    "place",
                    f"customer {customer_id} has no place {name!r} (their places: {known}) — "
                    "give lat and lon to add it, or name one of their places",
                )
                return None
        else:
            assert lat is not None and lon is not None
            at_point = next((p for p in places if same_point(p.lat, p.lon, lat, lon)), None)
            if at_point is not None:
                return at_point.id
            taken = {p.name for p in places}
            name = (values.get("address") or "home")[:100]
            if name in taken:
                name = f"{lat:.6f}, {lon:.6f}"
        kind = values.get("place_kind") or (
            PlaceKind(name) if name in KIND_NAMES else PlaceKind.HOME
        )
        data = {"kind": kind, "name": name, "lat": lat, "lon": lon}
        try:
            place = add_place(self.session, customer_id, {**data, "address": values.get("address")})
        except (Conflict, InvalidInput) as exc:
            column = {"name": "place", "kind": "place_kind"}
            path = exc.field if isinstance(exc, InvalidInput) else ("name",)
            message = exc.message if isinstance(exc, InvalidInput) else str(exc)
            self.error(line, column.get(str(path[0]), str(path[0])), message)
            return None
        assert place.id is not None
        self.places_created += 1
        places.append(_Spot(place.id, place.name, place.lat, place.lon))
        return place.id

    @staticmethod
    def remember(cache: dict[Any, Any]) -> None:
        """Keep a look-up cache bounded: a big file's customers do not all stay in memory."""
        if len(cache) >= _CACHE_SIZE:
            cache.clear()


class _Spot(NamedTuple):
    """A place, as much of it as the import needs."""

    id: int
    name: str
    lat: float
    lon: float


def _spills(row: list[str], width: int) -> bool:
    """Whether a row has non-empty fields beyond the header's columns."""
    return any(cell.strip() for cell in row[width:])
