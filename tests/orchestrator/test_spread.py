"""The learned spread of actual over planned times, and the buffer planned on
(orchestrator/planning/spread.py): Welford statistics, shrinkage toward the default, quantile
factors, keep probabilities and the buffer's rounding."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.planning.spread import (
    ANY_HOUR,
    ANY_ZONE,
    DEFAULT_SIGMA,
    Buffer,
    Estimate,
    Spread,
    SpreadBook,
    SpreadKey,
    keep_probability,
    quantile_factor,
    zone_of,
)
from routing.insertion import StraightLineLegs

KEY = SpreadKey("travel", "car", 9, "6670:1388")


def _lognormal_ratios(mu: float, sigma: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [math.exp(rng.gauss(mu, sigma)) for _ in range(n)]


def test_spread_is_welford_of_the_log_ratios() -> None:
    ratios = [0.8, 1.0, 1.25, 1.5, 0.9]
    s = Spread()
    for r in ratios:
        s = s.observe(r)
    logs = np.log(ratios)
    assert s.n == 5
    assert s.mean == pytest.approx(float(logs.mean()))
    assert s.m2 == pytest.approx(float(((logs - logs.mean()) ** 2).sum()))


@pytest.mark.parametrize("ratio", [0.0, -1.0, math.inf, math.nan])
def test_spread_refuses_a_ratio_that_is_not_positive_and_finite(ratio: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        Spread().observe(ratio)


def test_wild_ratios_are_clipped() -> None:
    assert Spread().observe(1e6).mean == pytest.approx(math.log(20))
    assert Spread().observe(1e-6).mean == pytest.approx(-math.log(20))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("walking", "car"), "travel' or 'service"),  # unknown timed
        (("travel", "car", 24), "hour 24"),  # hour out of range
        (("travel", "car", ANY_HOUR, "1:2"), "per hour"),  # zone without hour
    ],
)
def test_a_key_names_what_is_wrong(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SpreadKey(*args)


def test_levels_go_from_finest_to_the_profile() -> None:
    assert KEY.levels() == (
        KEY,
        SpreadKey("travel", "car", 9),
        SpreadKey("travel", "car"),
    )


def test_zone_of_is_a_kilometre_square() -> None:
    a = zone_of(60.1699, 24.9384)
    assert a == zone_of(60.1699 + 0.001, 24.9384)  # ~110 m north: same square
    assert a != zone_of(60.1699 + 0.02, 24.9384)  # 2.2 km north: another one


@pytest.mark.parametrize("timed", ["travel", "service"])
def test_no_data_gives_the_default(timed: str) -> None:
    e = SpreadBook().estimate(SpreadKey(timed, "bike", 14, "1:1"))  # type: ignore[arg-type]  # str of a Literal
    assert (e.mu, e.sigma, e.n) == (0.0, DEFAULT_SIGMA[timed], 0)


def test_one_observation_barely_moves_the_estimate() -> None:
    book = SpreadBook().observe(KEY, 3.0)
    e = book.estimate(KEY)
    assert 0 < e.mu < math.log(3.0) / 5  # shrunk strongly toward 0
    assert e.n == 1


def test_other_profiles_are_not_touched() -> None:
    book = SpreadBook().observe_many((KEY, 2.0) for _ in range(50))
    e = book.estimate(SpreadKey("travel", "bike", 9, KEY.zone))
    assert (e.mu, e.sigma) == (0.0, DEFAULT_SIGMA["travel"])


def test_a_coarser_level_teaches_a_new_zone() -> None:
    """Outcomes in one zone move the hour's estimate, hence a zone never seen at that hour."""
    book = SpreadBook().observe_many((KEY, 1.5) for _ in range(200))
    e = book.estimate(SpreadKey("travel", "car", 9, "0:0"))
    assert e.n == 0
    assert e.mu > 0.2


@settings(max_examples=25, deadline=None)
@given(
    mu=st.floats(-0.3, 0.5),
    sigma=st.floats(0.05, 0.6),
    seed=st.integers(0, 10_000),
)
def test_the_learned_spread_moves_toward_the_observed_one(
    mu: float, sigma: float, seed: int
) -> None:
    """Fed log-normal(mu, sigma) ratios, the estimate's error shrinks as outcomes grow, and
    with many it is the observed spread."""
    ratios = _lognormal_ratios(mu, sigma, 4_000, seed)
    errors = []
    for n in (0, 40, 4_000):
        e = SpreadBook().observe_many((KEY, r) for r in ratios[:n]).estimate(KEY)
        errors.append(abs(e.mu - mu) + abs(e.sigma - sigma))
    assert errors[2] <= errors[0] + 1e-9
    assert errors[2] < 0.05 + 0.1 * abs(mu)  # prior weight 20 of 4,000: almost all data
    e = SpreadBook().observe_many((KEY, r) for r in ratios).estimate(KEY)
    assert e.mu == pytest.approx(mu, abs=0.03 + 0.01 * abs(mu))
    assert e.sigma == pytest.approx(sigma, abs=0.03)


@given(
    mu=st.floats(-1, 1),
    sigma=st.floats(0, 1),
    a=st.floats(0.01, 0.99),
    b=st.floats(0.01, 0.99),
)
def test_factor_is_monotone_in_confidence(mu: float, sigma: float, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert quantile_factor(mu, sigma, lo) <= quantile_factor(mu, sigma, hi)


def test_the_median_factor_is_exp_mu() -> None:
    assert quantile_factor(0.2, 0.4, 0.5) == pytest.approx(math.exp(0.2))
    assert quantile_factor(0.0, 0.15, 0.9) == pytest.approx(math.exp(1.2815515655 * 0.15))


@pytest.mark.parametrize(
    ("confidence", "sigma", "match"),
    [(0.0, 0.1, "between 0 and 1"), (1.0, 0.1, "between 0 and 1"), (0.9, -0.1, "negative")],
)
def test_quantile_factor_refuses_nonsense(confidence: float, sigma: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        quantile_factor(0.0, sigma, confidence)


@given(
    expected=st.floats(0, 40_000),
    slack_a=st.floats(-5_000, 20_000),
    slack_b=st.floats(-5_000, 20_000),
    mu=st.floats(-0.5, 0.5),
    sigma=st.floats(0, 1),
)
def test_keep_probability_is_a_probability_monotone_in_slack(
    expected: float, slack_a: float, slack_b: float, mu: float, sigma: float
) -> None:
    estimate = Estimate(mu, sigma, 0)
    lo, hi = sorted((slack_a, slack_b))
    p_lo, p_hi = keep_probability(expected, lo, estimate), keep_probability(expected, hi, estimate)
    assert 0.0 <= p_lo <= p_hi <= 1.0


def test_keep_probability_at_the_quantile_is_the_confidence() -> None:
    """Planned exactly at the 0.9 quantile, the window's end is kept with probability 0.9."""
    est = Estimate(0.0, 0.15, 0)
    f = quantile_factor(0.0, 0.15, 0.9)
    assert keep_probability(3_600, 3_600 * (f - 1), est) == pytest.approx(0.9)
    assert keep_probability(3_600, -1, est) == 0.0
    assert keep_probability(0, 0, est) == 1.0


def test_buffer_of_a_book_without_outcomes_is_the_default_quantile() -> None:
    b = Buffer.of(SpreadBook(), ["car", "bike"], 0.9)
    assert b.travel_factor("car") == pytest.approx(quantile_factor(0, 0.15, 0.9))
    assert b.travel_factor("walk") == 1.0  # not asked for: unscaled
    assert b.service == pytest.approx(quantile_factor(0, 0.3, 0.9))
    assert b.confidence == 0.9


def test_buffer_learns_per_profile() -> None:
    book = SpreadBook().observe_many((SpreadKey("travel", "bike"), 1.6) for _ in range(500))
    b = Buffer.of(book, ["car", "bike"], 0.9)
    assert b.travel_factor("bike") > 1.6 > b.travel_factor("car")


def test_buffer_rounds_matrices_and_legs_alike() -> None:
    """An insertion's legs and the next plan's matrix scale the same seconds the same way."""
    buffer = Buffer({"car": 1.213}, 1.47, 0.9)
    legs = StraightLineLegs({"car": 30.0}, 1.3)
    lats, lons = np.array([60.17, 60.18, 60.2]), np.array([24.93, 24.95, 24.9])
    raw = legs.legs(lats, lons, 60.19, 24.94, "car")
    scaled = buffer.legs(legs).legs(lats, lons, 60.19, 24.94, "car")
    assert list(scaled.to_duration) == list(buffer.matrix_durations(raw.to_duration, "car"))
    assert list(scaled.to_distance) == list(raw.to_distance)
    assert scaled.to_duration.dtype == raw.to_duration.dtype
    assert all(scaled.to_duration >= raw.to_duration)
    assert buffer.service_seconds(120) == 176


def test_no_buffer_changes_nothing() -> None:
    legs = StraightLineLegs({"car": 30.0}, 1.3)
    assert Buffer().legs(legs) is legs
    assert Buffer().service_seconds(121) == 121
    assert Buffer().is_identity


def test_buffer_round_trips_through_plan_stats() -> None:
    b = Buffer({"car": 1.2, "bike": 1.3}, 1.5, 0.9)
    assert Buffer.from_stats(b.as_stats()) == b
    assert Buffer.from_stats(None) == Buffer()


@pytest.mark.parametrize("factor", [0.0, -1.0, math.nan])
def test_buffer_refuses_a_factor_that_is_not_positive(factor: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Buffer({"car": factor})


def test_estimate_any_zone_key() -> None:
    assert SpreadKey("service", "car", 3).zone == ANY_ZONE
