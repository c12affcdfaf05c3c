"""orchestrator.intake.importer: orders from a CSV file, all or nothing, once per order_key.

Every test runs on a SQLite file and on a real PostgreSQL server (see ``conftest.py``); the
files are real files written to ``tmp_path``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

import orchestrator
from orchestrator.errors import InvalidInput
from orchestrator.intake import importer
from orchestrator.intake.importer import COLUMNS, ImportRejected, ImportSummary, import_orders
from orchestrator.intake.orders import order_items
from orchestrator.models import Customer, Order, OrderEventKind, OrderItem, Place
from orchestrator.store.events import order_events
from tests.orchestrator.conftest import World

ROOT = Path(__file__).resolve().parents[2]
# The example is written for the default demo's depot; here it goes to the test world's HEL1.
EXAMPLE = [
    line.replace(",DEMO-SYN-S0-N200,", ",HEL1,")
    for line in (ROOT / "docs" / "examples" / "orders.csv").read_text("utf-8").splitlines(True)
]

HEADER = [
    "order_key",
    "depot",
    "service_day",
    "customer_email",
    "customer_name",
    "lat",
    "lon",
    "window_start",
    "window_end",
    "fragile",
    "description",
    "weight_g",
    "volume_ml",
]


def row(key: str = "A1", **cells: str) -> dict[str, str]:
    """A valid row of a one-item order to a new customer, with ``cells`` changed."""
    base = {
        "order_key": key,
        "depot": "HEL1",
        "service_day": "2025-03-03",
        "customer_email": f"{key.lower()}@example.org",
        "customer_name": f"Customer {key}",
        "lat": "60.1700",
        "lon": "24.9400",
        "window_start": "09:00",
        "window_end": "11:00",
        "fragile": "no",
        "description": "box",
        "weight_g": "1000",
        "volume_ml": "5000",
    }
    base.update(cells)
    return base


def write(
    path: Path,
    rows: Sequence[dict[str, str]],
    header: Sequence[str] = HEADER,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """``rows`` as a CSV file with ``header`` (cells of columns not in it are left out)."""
    with path.open("w", newline="", encoding=encoding) as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        for r in rows:
            writer.writerow([r.get(column, "") for column in header])
    return path


def count(session: Session, table: Any) -> int:
    """Rows of ``table`` in the store."""
    return session.exec(select(func.count()).select_from(table)).one()


def rejected(engine: Engine, source: Path, **kwargs: Any) -> list[InvalidInput]:
    """The errors of importing ``source``, which must be rejected."""
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, source, **kwargs)
    return list(caught.value.errors)


def fields(errors: Sequence[InvalidInput]) -> list[tuple[str | int, ...]]:
    """Where each error is."""
    return [e.field for e in errors]


# -- the happy path -----------------------------------------------------------------------------


def test_example_file_imports_every_order(engine: Engine, session: Session, world: World) -> None:
    summary = import_orders(engine, EXAMPLE)
    assert summary == ImportSummary(
        rows=10,
        orders=8,
        created=8,
        already_present=0,
        customers_created=6,
        places_created=7,
        dry_run=False,
    )
    assert count(session, Order) == 8
    assert count(session, OrderItem) == 10
    orders = {o.idempotency_key: o for o in session.exec(select(Order)).all()}
    # Three rows, one order: an espresso machine with a jug and two bags of beans.
    machine = orders["shop-1003"]
    items = order_items(session, machine.id or 0)
    assert [(i.description, i.quantity, i.weight_g) for i in items] == [
        ("espresso machine", 1, 9500),
        ("milk jug", 1, 350),
        ("coffee beans 1 kg", 2, 1000),
    ]
    assert machine.fragile and machine.signature_required and machine.value_cents == 89900
    # 13:00-15:00 in Helsinki (UTC+2 in March) is 11:00-13:00 UTC.
    assert machine.window_start == datetime(2027, 3, 1, 11, tzinfo=UTC)
    assert machine.window_end == datetime(2027, 3, 1, 13, tzinfo=UTC)
    # A date-time with offset is taken as it is.
    assert orders["shop-1004"].window_start == datetime(2027, 3, 1, 10, tzinfo=UTC)
    assert orders["shop-1002"].window_start is None
    assert all(o.depot_id == world.depot.id and o.status == "open" for o in orders.values())
    kinds = [e.kind for e in order_events(session, machine.id or 0)]
    assert kinds == [OrderEventKind.CREATED]


def test_customers_and_places_are_found_or_added(
    engine: Engine, session: Session, world: World
) -> None:
    import_orders(engine, EXAMPLE)
    aino = session.exec(select(Customer).where(Customer.email == "aino.virtanen@example.org")).one()
    places = {p.name: p for p in session.exec(select(Place).where(Place.customer_id == aino.id))}
    assert set(places) == {"home", "office"}  # two orders, two named places
    assert (places["office"].lat, places["office"].lon) == (60.1640, 24.9460)
    # Bertil's two orders go to one point: one place, named after its address.
    bertil = session.exec(
        select(Customer).where(Customer.email == "bertil.lindqvist@example.org")
    ).one()
    (bulevardi,) = session.exec(select(Place).where(Place.customer_id == bertil.id)).all()
    assert bulevardi.name == "Bulevardi 5"
    keys = session.exec(select(Order.idempotency_key).where(Order.place_id == bulevardi.id))
    assert sorted(keys.all()) == ["shop-1002", "shop-1007"]


def test_existing_customer_by_email_any_case_and_by_id(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    header = [*HEADER, "customer_id", "place"]
    rows = [
        # World's Aino at her home's point: her home, no new place.
        row(
            "E1", customer_email="AINO@example.org", customer_name="", lat="60.1755", lon="24.9310"
        ),
        # By id, to her office by name.
        row(
            "E2",
            customer_email="",
            customer_id=str(world.customer.id),
            place="office",
            lat="",
            lon="",
        ),
    ]
    summary = import_orders(engine, write(tmp_path / "o.csv", rows, header))
    assert (summary.created, summary.customers_created, summary.places_created) == (2, 0, 0)
    orders = {o.idempotency_key: o for o in session.exec(select(Order)).all()}
    assert orders["E1"].customer_id == orders["E2"].customer_id == world.customer.id
    assert orders["E1"].place_id == world.home.id
    assert orders["E2"].place_id == world.office.id


# -- idempotency --------------------------------------------------------------------------------


def test_importing_the_same_file_twice_creates_the_orders_once(
    engine: Engine, session: Session, world: World
) -> None:
    import_orders(engine, EXAMPLE)
    again = import_orders(engine, EXAMPLE)
    assert (again.created, again.already_present) == (0, 8)
    assert (again.customers_created, again.places_created) == (0, 0)
    assert count(session, Order) == 8
    assert count(session, Customer) == 1 + 6  # world's customer and the file's six
    assert count(session, Place) == 2 + 7


def test_a_key_reused_for_another_order_rejects_the_file(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    import_orders(engine, write(tmp_path / "first.csv", [row("A1")]))
    changed = write(tmp_path / "second.csv", [row("B1"), row("A1", weight_g="2000")])
    errors = rejected(engine, changed)
    assert fields(errors) == [("row", 3, "order_key")]
    assert "different content" in errors[0].message
    keys = session.exec(select(Order.idempotency_key)).all()
    assert keys == ["A1"]  # B1, valid on its own, is not half-imported
    assert count(session, Customer) == 1 + 1


# -- every bad value, reported where it is ------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "mentions"),
    [
        ({"lat": "95", "lon": "24.9"}, "lat", "swapped"),  # latitude beyond the pole
        ({"lon": "200"}, "lon", "-180..180"),  # longitude beyond the antimeridian
        ({"lat": "60,17"}, "lat", "comma"),  # a decimal comma
        ({"lat": "north"}, "lat", "not a number"),  # not a number
        ({"window_start": "11:00", "window_end": "09:00"}, "window_end", "swap"),  # reversed
        ({"window_start": "10:00", "window_end": "10:00"}, "window_end", "not after"),  # empty
        ({"window_start": "2025-03-03T09:00"}, "window_start", "no UTC offset"),  # naive
        ({"window_start": "nine"}, "window_start", "time of day"),  # not a time
        ({"window_end": ""}, "window_end", "or neither"),  # half a window
        ({"weight_g": "-5"}, "weight_g", "negative"),  # negative mass
        ({"weight_g": "1.5"}, "weight_g", "whole number"),  # grams are whole
        ({"volume_ml": ""}, "volume_ml", "is empty"),  # required per item
        ({"depot": "HEL9"}, "depot", "HEL1"),  # unknown depot: the message lists the known
        ({"service_day": "03/03/2025"}, "service_day", "YYYY-MM-DD"),  # not ISO
        ({"service_day": "2025-02-30"}, "service_day", "not a date"),  # no such day
        ({"fragile": "maybe"}, "fragile", "yes/no"),  # not a flag
        ({"customer_name": ""}, "customer_name", "give their name"),  # new, unnamed
        ({"customer_email": ""}, "customer_email", "customer_id or customer_email"),  # whose?
        ({"lat": "", "lon": ""}, "lat", "and so is place"),  # where to?
        ({"order_key": "k" * 201}, "order_key", "200"),  # longer than a key may be
    ],
)
def test_a_bad_cell_rejects_the_whole_file(
    engine: Engine,
    session: Session,
    world: World,
    tmp_path: Path,
    cells: dict[str, str],
    column: str,
    mentions: str,
) -> None:
    source = write(tmp_path / "o.csv", [row("GOOD"), row("BAD", **cells)])
    errors = rejected(engine, source)
    assert fields(errors) == [("row", 3, column)]
    assert mentions in errors[0].message
    assert " — " in errors[0].message  # what is wrong — what to do
    assert count(session, Order) == 0
    assert count(session, Customer) == 1  # the valid row's customer is not created either


def test_unknown_customer_id(engine: Engine, world: World, tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "customer_email"] + ["customer_id"]
    errors = rejected(engine, write(tmp_path / "o.csv", [row(customer_id="999")], header))
    assert fields(errors) == [("row", 2, "customer_id")]
    assert "no customer 999" in errors[0].message


def test_two_customers_with_the_email(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    orchestrator.create_customer(session, {"name": "Aino V.", "email": "aino@example.org"})
    errors = rejected(engine, write(tmp_path / "o.csv", [row(customer_email="aino@example.org")]))
    assert fields(errors) == [("row", 2, "customer_email")]
    assert "give customer_id" in errors[0].message


def test_a_named_place_elsewhere_is_not_moved(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "o.csv",
        [row(customer_email="aino@example.org", place="home", lat="60.2000", lon="24.9000")],
        [*HEADER, "place"],
    )
    errors = rejected(engine, source)
    assert fields(errors) == [("row", 2, "lat")]
    assert "another place name" in errors[0].message
    session.refresh(world.home)
    assert (world.home.lat, world.home.lon) == (60.1755, 24.9310)


def test_an_unknown_place_without_a_point(engine: Engine, world: World, tmp_path: Path) -> None:
    source = write(
        tmp_path / "o.csv",
        [row(customer_email="aino@example.org", place="cottage", lat="", lon="")],
        [*HEADER, "place"],
    )
    errors = rejected(engine, source)
    assert fields(errors) == [("row", 2, "place")]
    assert "'home'" in errors[0].message and "'office'" in errors[0].message


def test_every_error_of_the_file_in_file_order(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    rows = [
        row("A", weight_g="-1", service_day="tomorrow"),
        row("B"),
        row("C", depot="NOPE"),
        row("D", lat="-91"),
    ]
    errors = rejected(engine, write(tmp_path / "o.csv", rows))
    assert fields(errors) == [
        ("row", 2, "service_day"),
        ("row", 2, "weight_g"),
        ("row", 4, "depot"),
        ("row", 5, "lat"),
    ]
    problem = ImportRejected(errors)
    assert isinstance(problem, InvalidInput) and problem.field == ("row", 2, "service_day")
    assert "4 errors in the file" in problem.message


def test_reading_stops_after_max_errors(
    engine: Engine, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_ERRORS", 3)
    rows = [row(f"K{k}", weight_g="-1") for k in range(6)]
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, write(tmp_path / "o.csv", rows))
    assert caught.value.truncated
    assert fields(caught.value.errors) == [("row", n, "weight_g") for n in (2, 3, 4)]


# -- the header ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["order_key", "depot", "service_day", "weight_g", "volume_ml"])
def test_a_missing_required_column(
    engine: Engine, world: World, tmp_path: Path, missing: str
) -> None:
    header = [c for c in HEADER if c != missing]
    errors = rejected(engine, write(tmp_path / "o.csv", [row()], header))
    assert fields(errors) == [("row", 1, missing)]
    assert "add it" in errors[0].message


@pytest.mark.parametrize(
    ("without", "column"),
    [
        (("customer_email", "customer_name"), "customer_email"),  # whose order?
        (("lat", "lon"), "lat"),  # delivered where?
        (("lon",), "lon"),  # half a point
        (("window_end",), "window_end"),  # half a window
    ],
)
def test_columns_that_go_together(
    engine: Engine, world: World, tmp_path: Path, without: tuple[str, ...], column: str
) -> None:
    header = [c for c in HEADER if c not in without]
    errors = rejected(engine, write(tmp_path / "o.csv", [row()], header))
    assert fields(errors) == [("row", 1, column)]


def test_unknown_columns_are_errors_unless_marked(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    errors = rejected(engine, write(tmp_path / "o.csv", [row()], [*HEADER, "fragle"]))
    assert fields(errors) == [("row", 1, "fragle")]
    assert "did you mean 'fragile'" in errors[0].message
    ok = write(tmp_path / "ok.csv", [row()], [*HEADER, "# warehouse note"])
    assert import_orders(engine, ok).created == 1


def test_an_empty_file(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("", encoding="utf-8")
    errors = rejected(engine, tmp_path / "o.csv")
    assert fields(errors) == [("row", 1)]
    assert "empty" in errors[0].message


def test_header_only_imports_nothing(engine: Engine, world: World, tmp_path: Path) -> None:
    summary = import_orders(engine, write(tmp_path / "o.csv", []))
    assert (summary.rows, summary.orders, summary.created) == (0, 0, 0)


# -- the shape of the file ----------------------------------------------------------------------


def test_rows_of_one_order_are_its_items(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    rows = [
        row("M", description="chair", weight_g="7000"),
        {"order_key": "M", "description": "cushion", "weight_g": "300", "volume_ml": "4000"},
        {**row("M"), "description": "table", "weight_g": "15000"},  # repeats the order cells
    ]
    summary = import_orders(engine, write(tmp_path / "o.csv", rows))
    assert (summary.rows, summary.orders, summary.created) == (3, 1, 1)
    (order,) = session.exec(select(Order)).all()
    items = order_items(session, order.id or 0)
    assert [(i.description, i.weight_g) for i in items] == [
        ("chair", 7000),
        ("cushion", 300),
        ("table", 15000),
    ]


def test_rows_of_one_order_must_agree(engine: Engine, world: World, tmp_path: Path) -> None:
    rows = [row("M"), {**row("M"), "depot": "HEL2"}]
    errors = rejected(engine, write(tmp_path / "o.csv", rows))
    assert fields(errors) == [("row", 3, "depot")]
    assert "line 2" in errors[0].message


def test_rows_of_one_order_must_follow_each_other(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    errors = rejected(engine, write(tmp_path / "o.csv", [row("A"), row("B"), row("A")]))
    assert fields(errors) == [("row", 4, "order_key")]
    assert "line 2" in errors[0].message


def test_a_row_with_too_few_or_too_many_fields(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    source = write(tmp_path / "o.csv", [row("A"), row("B")])
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0]  # one field short
    lines[2] = lines[2] + ",spilled"  # a value with an unquoted comma, say
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = rejected(engine, source)
    assert fields(errors) == [("row", 2), ("row", 3)]
    assert "quoting" in errors[0].message


def test_trailing_empty_fields_and_blank_lines_are_fine(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    source = write(tmp_path / "o.csv", [row("A"), row("B")])
    lines = source.read_text(encoding="utf-8").splitlines()
    text = "\n".join([lines[0], lines[1] + ",,", "", ",,,", lines[2]]) + "\n"
    source.write_text(text, encoding="utf-8")
    assert import_orders(engine, source).created == 2


def test_semicolons_quotes_and_a_byte_order_mark(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    rows = [row("A", description='a "heavy"; bulky box')]
    source = write(tmp_path / "o.csv", rows, delimiter=";", encoding="utf-8-sig")
    assert import_orders(engine, source).created == 1
    (item,) = session.exec(select(OrderItem)).all()
    assert item.description == 'a "heavy"; bulky box'


def test_a_file_that_is_not_utf8(engine: Engine, world: World, tmp_path: Path) -> None:
    source = write(
        tmp_path / "o.csv", [row("A"), row("B", customer_name="Jörg")], encoding="latin-1"
    )
    errors = rejected(engine, source)
    assert fields(errors) == [("row", 3)]  # the line of the bad byte
    assert "UTF-8" in errors[0].message


# -- dry runs and progress ----------------------------------------------------------------------


def test_a_dry_run_reports_and_writes_nothing(
    engine: Engine, session: Session, world: World
) -> None:
    dry = import_orders(engine, EXAMPLE, dry_run=True)
    assert dry.dry_run and (dry.created, dry.customers_created, dry.places_created) == (8, 6, 7)
    assert count(session, Order) == 0
    assert count(session, Customer) == 1
    assert count(session, Place) == 2
    real = import_orders(engine, EXAMPLE)
    assert real == ImportSummary(**{**vars_of(dry), "dry_run": False})


def vars_of(summary: ImportSummary) -> dict[str, Any]:
    """The summary's fields as a dict (it has slots, no ``__dict__``)."""
    return {name: getattr(summary, name) for name in summary.__slots__}


def test_progress_is_reported_every_so_many_rows(
    engine: Engine, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    seen: list[int] = []
    source = write(tmp_path / "o.csv", [row(f"P{k}") for k in range(5)])
    import_orders(engine, source, progress=seen.append)
    assert seen == [2, 4]


def test_lines_from_a_stream(engine: Engine, session: Session, world: World) -> None:
    lines = [",".join(HEADER) + "\n", ",".join(row("S").values()) + "\n"]
    assert import_orders(engine, lines).created == 1
    assert count(session, Order) == 1


# -- the documentation --------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["docs/import.md", "orchestrator/intake/importer.py"])
def test_every_column_is_documented(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    missing = [c for c in COLUMNS if f"`{c}`" not in text]
    assert not missing


def test_a_sku_column_makes_lines_returnable(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    """Lines carry their SKU when the column is there; an empty cell leaves it unset; a SKU
    longer than 64 characters is an error at its line and column."""
    header = [*HEADER, "sku"]
    source = write(tmp_path / "orders.csv", [row("A1", sku="DRS-014-BLK-S"), row("A2")], header)
    import_orders(engine, source)
    skus = sorted((i.sku or "") for i in session.exec(select(OrderItem)).all())
    assert skus == ["", "DRS-014-BLK-S"]
    bad = write(tmp_path / "bad.csv", [row("A3", sku="X" * 65)], header)
    (error,) = rejected(engine, bad)
    assert error.field == ("row", 2, "sku")
