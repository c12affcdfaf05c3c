"""The decision: arithmetic by hand, the condition and low-probability rules, explanations."""

from __future__ import annotations

import functools
import math

import pytest

from returns import (
    Condition,
    DecisionPolicy,
    DestinationKind,
    InvalidReturnInput,
    Point,
    ResaleModel,
    decide,
    fit_resale_model,
)
from tests.returns.conftest import HERE, destination, every, history, item
from tests.returns.test_transfer import haversine_km

NORTH_11KM = Point(HERE.lon, HERE.lat + 0.1)  # 11.12 km straight north of the item
WAREHOUSE = DestinationKind.WAREHOUSE
OUTLET = DestinationKind.OUTLET
LIQUIDATION = DestinationKind.LIQUIDATION


@functools.cache
def model() -> ResaleModel:
    """Leith sells small sizes, Morningside medium, the warehouse a little of everything."""
    sales = every("leith", "tee-black-S", 3) + every("leith", "tee-white-S", 4, first=1)
    sales += every("morningside", "tee-black-M", 3) + every("morningside", "tee-white-M", 4)
    for sku in ("tee-black-S", "tee-black-M", "tee-black-L", "tee-white-S", "tee-white-M"):
        sales += every("warehouse", sku, 10)
    return fit_resale_model(history(sales, ["leith", "morningside", "warehouse"]))


def candidates(**stock: int) -> list:
    """Leith and Morningside at the item's place, the warehouse 11 km north, at 20 % off."""
    return [
        destination("leith", stock=stock.get("leith", 0)),
        destination("morningside", stock=stock.get("morningside", 0)),
        destination(
            "warehouse",
            kind=WAREHOUSE,
            stock=stock.get("warehouse", 0),
            transfer_cost=5.0,
            handling_cost=3.0,
            markdown=0.2,
            at=NORTH_11KM,
        ),
    ]


def test_the_item_goes_where_its_size_sells_with_a_sentence_that_says_why() -> None:
    decision = decide(item("tee-black-S"), candidates(), model())
    assert decision.destination == "leith"
    net = decision.chosen.expected_net
    warehouse = next(o for o in decision.options if o.destination.id == "warehouse")
    # days 56-83: black S on 57, 60, ..., 81 (9) and white S on 57, 61, ..., 81 (7)
    assert decision.explanation == (
        f"Leith sold 16 of this style in size S in the last 28 days and holds 0; "
        f"expected {net:.0f} EUR net vs {warehouse.expected_net:.0f} EUR at Warehouse"
    )


def test_the_arithmetic_of_every_option() -> None:
    policy = DecisionPolicy(co2_price_per_kg=2.0)  # large enough to show in the figures
    it = item("tee-black-S", price=50.0, condition="B")
    decision = decide(it, candidates(), model(), policy)
    for option in decision.options:
        dest, p = option.destination, option.estimate.probability
        km = 1.3 * haversine_km(it.location, dest.location)
        revenue = p * 50.0 * 0.8 * (1.0 - dest.markdown)
        co2 = km * 0.005
        assert option.distance_km == pytest.approx(km, rel=1e-6, abs=1e-9)
        assert option.co2_kg == pytest.approx(co2, rel=1e-6, abs=1e-9)
        assert option.co2_cost == pytest.approx(2.0 * co2, rel=1e-6, abs=1e-9)
        assert option.expected_revenue == pytest.approx(revenue)
        expected = revenue - dest.transfer_cost - dest.handling_cost - 2.0 * co2
        assert option.expected_net == pytest.approx(expected)
    # the warehouse: 14.46 road km -> 0.0723 kg CO2 -> 0.145 EUR at 2 EUR/kg
    warehouse = next(o for o in decision.options if o.destination.id == "warehouse")
    assert warehouse.co2_cost == pytest.approx(0.1445, abs=1e-3)


def test_a_liquidation_channel_by_hand() -> None:
    """50 EUR, grade B (80 %), 15 % of the price, 1.50 transfer, 0.50 handling: 4.00 EUR."""
    liq = destination(
        "liq",
        kind=LIQUIDATION,
        transfer_cost=1.5,
        handling_cost=0.5,
        markdown=0.85,
        clearance_days=2,
    )
    decision = decide(item("tee-black-S", price=50.0, condition="B"), [liq], model())
    assert decision.chosen.expected_revenue == pytest.approx(6.0)
    assert decision.chosen.expected_net == pytest.approx(4.0)
    assert decision.explanation.startswith("Liq takes it within 2 days at 15% of the price")


def test_stock_on_the_shelf_sends_the_item_to_the_equal_store_with_none() -> None:
    sales = every("twin-a", "tee-black-M", 2) + every("twin-b", "tee-black-M", 2)
    twins = fit_resale_model(history(sales, ["twin-a", "twin-b"]))
    it = item("tee-black-M")
    full, empty = destination("twin-a", stock=10), destination("twin-b")
    assert decide(it, [full, empty], twins).destination == "twin-b"
    assert decide(it, [empty, full], twins).destination == "twin-b"
    # with equal stock the order given breaks the tie
    assert decide(it, [destination("twin-a"), empty], twins).destination == "twin-a"


def test_a_carbon_price_can_tip_the_choice_to_the_nearer_of_two_equal_stores() -> None:
    sales = every("near", "tee-black-M", 2) + every("far", "tee-black-M", 2)
    twins = fit_resale_model(history(sales, ["near", "far"]))
    it = item("tee-black-M")
    far = destination("far", at=NORTH_11KM, transfer_cost=1.9)  # cheaper, 14 km away
    near = destination("near")
    assert decide(it, [far, near], twins).destination == "far"
    priced = DecisionPolicy(co2_price_per_kg=5.0)  # 0.07 kg -> 0.36 EUR
    assert decide(it, [far, near], twins, priced).destination == "near"


def clearance() -> list:
    """An outlet at half price and a liquidation channel."""
    return [
        destination("outlet", kind=OUTLET, markdown=0.5, clearance_days=7),
        destination("liquidation", kind=LIQUIDATION, markdown=0.85, clearance_days=2),
    ]


def test_condition_c_goes_to_the_outlet_even_when_a_store_would_pay_more() -> None:
    it = item("tee-black-S", condition="C")
    decision = decide(it, [*candidates(), *clearance()], model())
    assert decision.destination == "outlet"
    leith = next(o for o in decision.options if o.destination.id == "leith")
    assert leith.expected_net > decision.chosen.expected_net
    assert not leith.eligible
    assert [o.eligible for o in decision.options] == [True, True, False, False, False]
    assert decision.explanation.startswith("Condition C goes to an outlet or liquidation: ")


def test_condition_c_without_an_outlet_or_liquidation_is_an_error() -> None:
    with pytest.raises(InvalidReturnInput, match="add one") as info:
        decide(item("tee-black-S", condition=Condition.C), candidates(), model())
    assert info.value.field == ("destinations",)


def test_an_item_no_store_is_likely_to_sell_goes_to_clearance() -> None:
    crowded = candidates(leith=40, morningside=40, warehouse=40)
    decision = decide(item("tee-black-S"), [*crowded, *clearance()], model())
    assert decision.chosen.destination.kind in (OUTLET, LIQUIDATION)
    assert decision.explanation.startswith(
        "No store or warehouse is likely to sell it within 14 days (best "
    )
    # without a clearance channel it still goes somewhere, the best of what there is
    assert decide(item("tee-black-S"), crowded, model()).chosen.eligible


def test_options_list_eligible_ones_first_then_by_expected_net() -> None:
    decision = decide(item("tee-black-S", condition="C"), [*candidates(), *clearance()], model())
    nets = [(not o.eligible, -o.expected_net) for o in decision.options]
    assert nets == sorted(nets)


@pytest.mark.parametrize(
    ("dests", "field"),
    [
        ([], ("destinations",)),  # nowhere to go
        ([destination("leith"), destination("leith")], ("destinations", 1, "id")),
        (["leith"], ("destinations", 0)),  # an id is not a destination
    ],
)
def test_bad_candidate_lists_are_named(dests: list, field: tuple) -> None:
    with pytest.raises(InvalidReturnInput) as info:
        decide(item("tee-black-S"), dests, model())
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"co2_price_per_kg": -0.1}, ("co2_price_per_kg",)),
        ({"detour_factor": 0.5}, ("detour_factor",)),
        ({"condition_factors": {Condition.A: 1.0, Condition.B: 0.8}}, ("condition_factors", "C")),
        ({"min_probability": 1.5}, ("min_probability",)),
    ],
)
def test_bad_policies_are_named(kwargs: dict, field: tuple) -> None:
    with pytest.raises(InvalidReturnInput) as info:
        DecisionPolicy(**kwargs)
    assert info.value.field == field


def test_the_decision_is_the_same_every_time() -> None:
    first = decide(item("tee-white-S"), candidates(leith=1), model())
    again = decide(item("tee-white-S"), candidates(leith=1), model())
    assert first == again
    assert math.isfinite(first.chosen.expected_net)
