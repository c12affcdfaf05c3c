"""The inputs validate themselves and name the field to fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from returns import (
    Condition,
    Destination,
    DestinationKind,
    InvalidReturnInput,
    Point,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
)
from tests.returns.conftest import END, HERE, START, destination, every, history, item, tees


def test_a_valid_item_keeps_its_fields_and_coerces_the_grade() -> None:
    it = ReturnedItem("tee-black-S", "tee", "tops", "S", "black", 40, "b", HERE)  # type: ignore[arg-type]
    assert it.condition is Condition.B
    assert it.price == 40


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"price": -5.0}, "price", "negative"),  # a refund is not a price
        ({"price": 0.0}, "price", "zero"),
        ({"price": float("nan")}, "price", "not a number"),
        ({"condition": "D"}, "condition", "A (as new)"),  # grades are A, B, C
        ({"condition": 3}, "condition", "not a condition grade"),
        ({"sku": " "}, "sku", "non-empty"),
        ({"location": (24.9, 60.1)}, "location", "Point(lon, lat)"),
    ],
)
def test_bad_item_fields_are_named(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidReturnInput) as info:
        replace(item(), **changes)  # type: ignore[arg-type]
    assert info.value.field == (field,)
    assert words in str(info.value)


def test_a_point_refuses_swapped_coordinates() -> None:
    with pytest.raises(InvalidReturnInput, match="swap lon and lat") as info:
        Point(24.9, 160.2)
    assert info.value.field == ("lat",)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"transfer_cost": -1.0}, "transfer_cost"),
        ({"handling_cost": float("inf")}, "handling_cost"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),  # units are whole
        ({"markdown": 1.0}, "markdown"),  # nothing left of the price
        ({"markdown": -0.1}, "markdown"),
        ({"clearance_days": -2.0}, "clearance_days"),
        ({"kind": "shop"}, "kind"),
        ({"id": ""}, "id"),
    ],
)
def test_bad_destination_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidReturnInput) as info:
        replace(destination("store-a"), **changes)  # type: ignore[arg-type]
    assert info.value.field == (field,)


def test_a_destination_kind_may_be_given_as_text() -> None:
    assert destination("x", kind="outlet").kind is DestinationKind.OUTLET  # type: ignore[arg-type]


def test_liquidation_needs_clearance_days() -> None:
    with pytest.raises(InvalidReturnInput, match="clearance_days") as info:
        Destination("liq", "Liquidation", DestinationKind.LIQUIDATION, HERE, 1.0, 0.5)
    assert info.value.field == ("clearance_days",)


def test_a_sale_needs_a_whole_positive_number_of_units() -> None:
    with pytest.raises(InvalidReturnInput) as info:
        Sale(START, "store-a", "tee-black-S", 0)
    assert info.value.field == ("units",)


def test_history_names_the_sale_with_an_unknown_sku() -> None:
    sales = [*every("store-a", "tee-black-S", 7), Sale(START, "store-a", "hat-red-M")]
    with pytest.raises(InvalidReturnInput, match="not in the catalogue") as info:
        history(sales, ["store-a"])
    assert info.value.field == ("sales", len(sales) - 1, "sku")


def test_history_names_the_sale_of_an_unlisted_destination() -> None:
    with pytest.raises(InvalidReturnInput) as info:
        history([Sale(START, "store-z", "tee-black-S")], ["store-a"])
    assert info.value.field == ("sales", 0, "destination")


def test_history_refuses_a_sale_outside_the_period_or_before_opening() -> None:
    with pytest.raises(InvalidReturnInput) as info:
        history([Sale(END + timedelta(days=1), "store-a", "tee-black-S")], ["store-a"])
    assert info.value.field == ("sales", 0, "day")
    with pytest.raises(InvalidReturnInput, match="widen the period"):
        history(
            [Sale(START, "store-a", "tee-black-S")],
            ["store-a"],
            opened={"store-a": START + timedelta(days=10)},
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": START - timedelta(days=1)}, ("end",)),
        ({"destinations": ()}, ("destinations",)),
        ({"destinations": ("a", "a")}, ("destinations", 1)),
        ({"catalogue": ()}, ("catalogue",)),
        ({"catalogue": (*tees(), tees()[0])}, ("catalogue", 6, "sku")),
        ({"opened": {"b": START}}, ("opened", "b")),
    ],
)
def test_bad_history_fields_are_named(
    kwargs: dict[str, object], field: tuple[str | int, ...]
) -> None:
    base: dict[str, object] = {
        "start": START,
        "end": END,
        "destinations": ("a",),
        "catalogue": tees(),
        "sales": (),
    }
    with pytest.raises(InvalidReturnInput) as info:
        SalesHistory(**{**base, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field


def test_history_looks_up_variants_and_first_days() -> None:
    h = history([], ["a", "b"], opened={"b": START + timedelta(days=3)})
    assert h.variant("tee-white-M") == Variant("tee-white-M", "tee", "tops", "M", "white")
    assert h.variant("nope") is None
    assert h.first_day("a") == START
    assert h.first_day("b") == START + timedelta(days=3)
