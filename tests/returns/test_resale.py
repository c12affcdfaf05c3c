"""The resale model on hand-made histories: taste, shrinkage, stock, trend, calibration."""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from returns import (
    MissingHistory,
    ResaleConfig,
    ResaleModel,
    Sale,
    SalesHistory,
    UnknownSku,
    calibrate,
    fit_resale_model,
)
from returns.errors import InvalidReturnInput
from tests.returns.conftest import (
    DAYS,
    END,
    START,
    destination,
    every,
    history,
    item,
    tees,
)


def probabilities(
    model: ResaleModel, sku: str, stores: list[str], **stock: int
) -> dict[str, float]:
    """P(sold within the horizon) of one unit of ``sku`` at each store."""
    dests = [destination(s, stock=stock.get(s.replace("-", "_"), 0)) for s in stores]
    return {e.destination: e.probability for e in model.estimates(item(sku), dests)}


def by_size() -> SalesHistory:
    """Three stores of equal volume: one sells only S, one only L, one only M."""
    sales = []
    for store, size in (("small", "S"), ("large", "L"), ("middle", "M")):
        sales += every(store, f"tee-black-{size}", 3)
        sales += every(store, f"tee-white-{size}", 4, first=1)
    sales += every("small", "tee-black-S", 5, first=2)  # the small store also sells more black
    return history(sales, ["small", "large", "middle"])


def test_a_store_that_sells_only_size_s_gets_the_s_item() -> None:
    model = fit_resale_model(by_size())
    p = probabilities(model, "tee-black-S", ["small", "large", "middle"])
    assert p["small"] > 0.9
    assert p["small"] > 3 * max(p["large"], p["middle"])


def test_size_taste_carries_over_to_a_colour_the_store_rarely_sells_in_that_size() -> None:
    # "small" sold no white S in the last weeks of this variant: it still sells size S best.
    sales = [s for s in by_size().sales if s.sku != "tee-white-S" or s.day < START + timedelta(30)]
    model = fit_resale_model(history(sales, ["small", "large", "middle"]))
    p = probabilities(model, "tee-white-S", ["small", "large", "middle"])
    assert p["small"] == max(p.values())


def test_one_lucky_sale_does_not_outrank_a_steady_seller() -> None:
    """A store open two days with one sale has a higher raw rate, but not a higher estimate."""
    sales = every("steady", "tee-black-S", 7)  # 12 units in 84 days
    sales += every("steady", "tee-white-M", 3)
    for k, store in enumerate(("north", "south", "east", "west")):
        sales += every(store, "tee-white-M", 3, first=k)
        sales += every(store, "tee-black-L", 4, first=k)
        sales += every(store, "tee-black-S", 21, first=k)
    sales.append(Sale(END, "newcomer", "tee-black-S"))
    stores = ["steady", "north", "south", "east", "west", "newcomer"]
    h = history(sales, stores, opened={"newcomer": END - timedelta(days=1)})
    raw_newcomer, raw_steady = 1 / 2, 12 / DAYS
    assert raw_newcomer > 3 * raw_steady  # judged on noise, the newcomer would win
    model = fit_resale_model(h)
    assert model.rate("steady", "tee-black-S") > model.rate("newcomer", "tee-black-S")
    p = probabilities(model, "tee-black-S", stores)
    assert max(p, key=p.__getitem__) == "steady"


def test_a_store_open_for_two_weeks_is_judged_on_those_two_weeks() -> None:
    sales = every("old", "tee-black-M", 6) + every("new", "tee-black-M", 1, first=DAYS - 14)
    h = history(sales, ["old", "new"], opened={"new": END - timedelta(days=13)})
    model = fit_resale_model(h, ResaleConfig(half_life_days=None, trend_days=None))
    assert model.rate("new", "tee-black-M") > 2 * model.rate("old", "tee-black-M")


def twins() -> SalesHistory:
    """Two stores with identical sales."""
    sales = []
    for store in ("twin-a", "twin-b"):
        sales += every(store, "tee-black-M", 2) + every(store, "tee-white-S", 5)
    return history(sales, ["twin-a", "twin-b"])


def test_stock_on_the_shelf_competes_for_the_same_customers() -> None:
    model = fit_resale_model(twins())
    p = probabilities(model, "tee-black-M", ["twin-a", "twin-b"], twin_a=10)
    assert p["twin-b"] > 0.9
    assert p["twin-a"] < 0.2
    estimates = model.estimates(
        item("tee-black-M"), [destination("twin-a", stock=10), destination("twin-b")]
    )
    assert estimates[0].expected_days == pytest.approx(11 * estimates[1].expected_days)


def test_the_estimate_quotes_recent_sales_of_the_style_in_the_size() -> None:
    model = fit_resale_model(twins())
    (est,) = model.estimates(item("tee-black-M"), [destination("twin-a")])
    assert est.recent_days == 28
    assert est.recent_style_size_sales == 14  # one every 2 days; white comes in S only
    assert est.stock == 0
    assert est.rate_per_day is not None and 0.3 < est.rate_per_day < 0.7


def test_a_clearance_channel_needs_no_history() -> None:
    model = fit_resale_model(twins())
    liq = destination("liquidation", kind="liquidation", clearance_days=3)  # type: ignore[arg-type]
    slow = destination("jobber", kind="outlet", clearance_days=30)  # type: ignore[arg-type]
    est = model.estimates(item("tee-black-M"), [liq, slow])
    assert (est[0].probability, est[0].expected_days, est[0].rate_per_day) == (1.0, 3.0, None)
    assert est[1].probability == 0.0  # not within 14 days


def test_unknown_sku_is_named() -> None:
    model = fit_resale_model(twins())
    bad = item("tee-black-M")
    with pytest.raises(UnknownSku, match="not in the sales history's catalogue") as info:
        model.estimates(replace(bad, sku="hat-1"), [destination("twin-a")])
    assert info.value.field == ("item", "sku")


def test_an_item_that_contradicts_the_catalogue_is_named() -> None:
    model = fit_resale_model(twins())
    bad = item("tee-black-M")
    wrong = replace(bad, size="XL")
    with pytest.raises(UnknownSku, match="'XL' disagrees with the catalogue") as info:
        model.estimates(wrong, [destination("twin-a")])
    assert info.value.field == ("item", "size")


def test_a_destination_missing_from_the_history_is_named() -> None:
    model = fit_resale_model(twins())
    with pytest.raises(MissingHistory, match="no sales history") as info:
        model.estimates(item("tee-black-M"), [destination("twin-a"), destination("elsewhere")])
    assert info.value.field == ("destinations", 1, "id")


def test_a_bad_horizon_is_refused() -> None:
    model = fit_resale_model(twins())
    with pytest.raises(InvalidReturnInput) as info:
        model.estimates(item("tee-black-M"), [destination("twin-a")], horizon_days=0)
    assert info.value.field == ("horizon_days",)
    with pytest.raises(InvalidReturnInput) as info:
        ResaleConfig(half_life_days=-3)
    assert info.value.field == ("half_life_days",)


def rising(seed: int = 1) -> SalesHistory:
    """Five stores whose demand for black M quadruples over the history."""
    rng = np.random.default_rng(seed)
    sales = []
    for store in ("a", "b", "c", "d", "e"):
        for day in range(DAYS):
            units = int(rng.poisson(0.25 * 4 ** (day / (DAYS - 1))))
            if units:
                sales.append(Sale(START + timedelta(days=day), store, "tee-black-M", units))
    return history(sales, ["a", "b", "c", "d", "e"])


def test_a_rising_category_is_extrapolated_not_averaged() -> None:
    flat = fit_resale_model(rising(), ResaleConfig(half_life_days=None, trend_days=None))
    trend = fit_resale_model(rising(), ResaleConfig(half_life_days=None, trend_days=56))
    recent = fit_resale_model(rising(), ResaleConfig(half_life_days=14, trend_days=None))
    (f,) = flat.estimates(item("tee-black-M"), [destination("a", stock=8)])
    (t,) = trend.estimates(item("tee-black-M"), [destination("a", stock=8)])
    (r,) = recent.estimates(item("tee-black-M"), [destination("a", stock=8)])
    assert f.rate_per_day is not None and t.rate_per_day is not None
    assert r.rate_per_day is not None
    # Truth over the next 14 days: about 1.0-1.1 units a day; the flat mean is ~0.54, and the
    # trend may lift it by at most max_trend (1.5).
    assert f.rate_per_day < 0.65
    assert r.rate_per_day > f.rate_per_day
    assert 1.3 * f.rate_per_day < t.rate_per_day <= 1.5 * f.rate_per_day * (1 + 1e-9)
    assert t.probability > f.probability


def test_a_trend_within_its_noise_is_no_trend() -> None:
    sales = every("a", "tee-black-M", 2) + every("b", "tee-black-M", 2, first=1)
    h = history(sales, ["a", "b"])
    flat = fit_resale_model(h, ResaleConfig(trend_days=None))
    trend = fit_resale_model(h, ResaleConfig(trend_days=56))
    assert trend.rate("a", "tee-black-M") == flat.rate("a", "tee-black-M")
    (x,) = flat.estimates(item("tee-black-M"), [destination("a")])
    (y,) = trend.estimates(item("tee-black-M"), [destination("a")])
    assert y.rate_per_day == pytest.approx(x.rate_per_day)


def test_calibrate_picks_among_the_candidates_and_needs_enough_history() -> None:
    config = calibrate(rising(), half_lives=(7.0, None), trends=(56, None))
    assert config.half_life_days in (7.0, None)
    assert config.trend_days in (56, None)
    assert (config.half_life_days, config.trend_days) != (None, None)  # it rose fourfold
    short = SalesHistory(START, START + timedelta(days=20), ("a",), tees(), ())
    with pytest.raises(InvalidReturnInput, match="at least 28 days"):
        calibrate(short)


def test_probabilities_are_calibrated_on_a_poisson_world() -> None:
    """Stores with Gamma-distributed rates: predicted and observed resale rates agree."""
    rng = np.random.default_rng(7)
    stores = [f"s{k}" for k in range(40)]
    skus = [v.sku for v in tees()]
    rates = rng.gamma(1.5, 0.06, size=(len(stores), len(skus)))
    sales = [
        Sale(START + timedelta(days=day), store, sku, int(n))
        for i, store in enumerate(stores)
        for j, sku in enumerate(skus)
        for day, n in enumerate(rng.poisson(rates[i, j], size=DAYS))
        if n
    ]
    model = fit_resale_model(
        history(sales, stores), ResaleConfig(half_life_days=None, trend_days=None)
    )
    predicted, observed = [], []
    for j, sku in enumerate(skus):
        for stock in (0, 2):
            dests = [destination(s, stock=stock) for s in stores]
            future = rng.poisson(rates[:, j] * 14)
            predicted += [e.probability for e in model.estimates(item(sku), dests)]
            observed += list(future >= stock + 1)
    p, y = np.array(predicted), np.array(observed, dtype=float)
    assert abs(p.mean() - y.mean()) < 0.04
    brier, base = np.mean((p - y) ** 2), np.mean((y.mean() - y) ** 2)
    assert brier < 0.75 * base  # it knows which store sells what
    for low, high in ((0.0, 0.3), (0.3, 0.7), (0.7, 1.0)):
        band = (p >= low) & (p < high)
        assert band.sum() > 30
        assert abs(p[band].mean() - y[band].mean()) < 0.1


@functools.cache
def fitted() -> ResaleModel:
    """A model fitted once on ``by_size()`` for the property tests."""
    return fit_resale_model(by_size())


@settings(max_examples=60, deadline=None)
@given(
    sku=st.sampled_from([v.sku for v in tees()]),
    store=st.sampled_from(["small", "large", "middle"]),
    stock=st.integers(0, 40),
    h1=st.floats(0.5, 60.0),
    h2=st.floats(0.5, 60.0),
)
def test_probability_is_in_range_rises_with_horizon_and_falls_with_stock(
    sku: str, store: str, stock: int, h1: float, h2: float
) -> None:
    model = fitted()
    short, long_ = sorted((h1, h2))
    it = item(sku)
    here, more = destination(store, stock=stock), destination(store, stock=stock + 1)
    (a,) = model.estimates(it, [here], horizon_days=short)
    (b,) = model.estimates(it, [here], horizon_days=long_)
    (c,) = model.estimates(it, [more], horizon_days=short)
    for e in (a, b, c):
        assert 0.0 <= e.probability <= 1.0
        assert e.expected_days > 0
    assert a.probability <= b.probability + 1e-12
    assert c.probability <= a.probability + 1e-12
    assert c.expected_days > a.expected_days


@st.composite
def histories(draw: st.DrawFn) -> SalesHistory:
    """Small random histories: 1-4 stores, any sales of the tee catalogue, some stores new."""
    stores = [f"s{k}" for k in range(draw(st.integers(1, 4)))]
    opened = {s: START + timedelta(days=draw(st.integers(1, DAYS - 1))) for s in stores[2:]}
    sales = []
    for _ in range(draw(st.integers(0, 60))):
        store = draw(st.sampled_from(stores))
        first = (opened.get(store, START) - START).days
        day = START + timedelta(days=draw(st.integers(first, DAYS - 1)))
        sku = draw(st.sampled_from([v.sku for v in tees()]))
        sales.append(Sale(day, store, sku, draw(st.integers(1, 5))))
    return history(sales, stores, opened=opened)


@settings(max_examples=40, deadline=None)
@given(h=histories(), stock=st.integers(0, 5))
def test_any_history_gives_probabilities_in_range(h: SalesHistory, stock: int) -> None:
    model = fit_resale_model(h)
    dests = [destination(s, stock=stock) for s in h.destinations]
    for v in tees():
        for e in model.estimates(item(v.sku), dests):
            assert 0.0 <= e.probability <= 1.0
            assert e.expected_days > 0 and not math.isnan(e.expected_days)
    assert all(math.isfinite(s) and s > 0 for s in model.strengths.values())
