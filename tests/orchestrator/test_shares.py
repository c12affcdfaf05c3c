"""The sharing rule: shares add up exactly, equal retailers pay alike, and pooling that saves
leaves every retailer better off under the proportional rule; Shapley values exact for three
retailers, sampled beyond four, and checked against the core."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.errors import InvalidInput
from orchestrator.sharing import (
    METRICS,
    Footprint,
    Rule,
    StandAlone,
    apportion,
    core_violations,
    proportional_shares,
    shapley_shares,
    shapley_values,
)

NAMES = ("A", "B", "C", "D", "E", "F")

figures = st.integers(min_value=0, max_value=10**9)
footprints = st.builds(Footprint, figures, figures, figures)


@st.composite
def days(draw: st.DrawFn, *, max_retailers: int = 6) -> tuple[list[StandAlone], Footprint]:
    """Retailers' stand-alone footprints and a pooled footprint (any size)."""
    n = draw(st.integers(min_value=1, max_value=max_retailers))
    alone = [StandAlone(NAMES[i], draw(footprints)) for i in range(n)]
    return alone, draw(footprints)


def sums(shares: list[Footprint]) -> Footprint:
    return Footprint(*(sum(s.get(m) for s in shares) for m in METRICS))


# -- apportion ------------------------------------------------------------------------------


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
)
def test_apportion_adds_up_and_stays_within_a_unit_of_each_quota(
    total: int, weights: list[int]
) -> None:
    whole = sum(weights)
    quotas = (
        [Fraction(total * w, whole) for w in weights]
        if whole
        else [Fraction(total, len(weights))] * len(weights)
    )
    parts = apportion(total, quotas)
    assert sum(parts) == total
    assert all(abs(p - q) < 1 for p, q in zip(parts, quotas, strict=True))


def test_apportion_gives_leftover_units_to_the_largest_remainders_then_the_first() -> None:
    # 100 cents among three equal parties: 33.33 each, the one cent left to the first.
    assert apportion(100, [Fraction(100, 3)] * 3) == (34, 33, 33)
    # Remainders .2, .5, .3: two cents left go to the second, then the third.
    assert apportion(12, [Fraction(22, 10), Fraction(45, 10), Fraction(53, 10)]) == (2, 5, 5)


def test_apportion_refuses_quotas_that_do_not_add_up() -> None:
    with pytest.raises(InvalidInput, match=r"add up to 9\.0, not the total 10"):
        apportion(10, [Fraction(4), Fraction(5)])


# -- proportional rule ---------------------------------------------------------------------


@given(days())
def test_proportional_shares_add_up_exactly_to_the_pooled_day(
    day: tuple[list[StandAlone], Footprint],
) -> None:
    alone, pooled = day
    shared = proportional_shares(alone, pooled)
    assert shared.rule is Rule.PROPORTIONAL
    assert sums([s.share for s in shared.shares]) == pooled
    assert [s.retailer for s in shared.shares] == [a.retailer for a in alone]


@given(days(), st.data())
def test_proportional_shares_treat_equal_retailers_alike(
    day: tuple[list[StandAlone], Footprint], data: st.DataObject
) -> None:
    alone, pooled = day
    # Make the last retailer a copy of a random other one: their shares differ by at most
    # the unit the remainder rule hands out.
    if len(alone) < 2:
        return
    twin_of = data.draw(st.integers(min_value=0, max_value=len(alone) - 2))
    alone[-1] = StandAlone(alone[-1].retailer, alone[twin_of].alone)
    shared = proportional_shares(alone, pooled)
    for metric in METRICS:
        gap = shared.shares[-1].share.get(metric) - shared.shares[twin_of].share.get(metric)
        assert abs(gap) <= 1


@given(days())
def test_every_retailer_is_better_off_when_the_pool_costs_less(
    day: tuple[list[StandAlone], Footprint],
) -> None:
    alone, drawn = day
    total = sum((a.alone for a in alone), Footprint(0, 0, 0))
    # The pool costs at most what everyone alone costs, figure by figure.
    pooled = Footprint(*(min(drawn.get(m), total.get(m)) for m in METRICS))
    shared = proportional_shares(alone, pooled)
    for s in shared.shares:
        for metric in METRICS:
            assert s.share.get(metric) <= s.alone.get(metric)
            assert s.saving(metric) >= 0
            # Strictly better off whenever its quota is a whole unit below its own figure.
            whole = total.get(metric)
            if (
                whole
                and pooled.get(metric) * s.alone.get(metric) <= (s.alone.get(metric) - 1) * whole
            ):
                assert s.saving(metric) > 0


def test_proportional_shares_of_a_worked_day() -> None:
    # Alone 400, 300 and 300 EUR; pooled 800 EUR: each saves 20 %.
    alone = [
        StandAlone("A", Footprint.of(400.0, 40_000, 8_000)),
        StandAlone("B", Footprint.of(300.0, 30_000, 6_000)),
        StandAlone("C", Footprint.of(300.0, 30_000, 6_000)),
    ]
    shared = proportional_shares(alone, Footprint.of(800.0, 70_000, 14_000.4))
    assert [s.share.cost_cents for s in shared.shares] == [32_000, 24_000, 24_000]
    assert [s.saving_pct("cost_cents") for s in shared.shares] == [20.0, 20.0, 20.0]
    assert [s.share.distance_m for s in shared.shares] == [28_000, 21_000, 21_000]
    assert shared.saving_pct("distance_m") == 30.0
    assert shared.share_of("B").saving("cost_cents") == 6_000


def test_a_figure_zero_for_everyone_alone_is_split_equally() -> None:
    alone = [StandAlone(n, Footprint(100, 0, 0)) for n in "AB"]
    shared = proportional_shares(alone, Footprint(150, 7, 0))
    assert [s.share.distance_m for s in shared.shares] == [4, 3]
    assert shared.shares[0].saving_pct("distance_m") is None


@pytest.mark.parametrize(
    ("alone", "pooled", "field"),
    [
        ([], Footprint(1, 1, 1), "alone"),  # nobody to share among
        ([StandAlone("A", Footprint(1, 1, 1))] * 2, Footprint(1, 1, 1), "alone"),  # repeated
        ([StandAlone("A", Footprint(-1, 1, 1))], Footprint(1, 1, 1), "alone.0.cost_cents"),
        ([StandAlone("A", Footprint(1, 1, 1))], Footprint(1, -5, 1), "pooled.distance_m"),
    ],
)
def test_bad_days_are_refused_naming_the_field(
    alone: list[StandAlone], pooled: Footprint, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        proportional_shares(alone, pooled)
    assert caught.value.where == field


def test_a_footprint_of_a_plans_figures_rounds_to_whole_units() -> None:
    # EUR to the cent, halves to even; numpy's integers (a solver's sums) are taken too.
    assert Footprint.of(12.345, np.int64(1500), 250.5) == Footprint(1234, 1500, 250)
    assert Footprint.of(0.125, 0.5, 1.5) == Footprint(12, 0, 2)


def test_a_footprint_takes_whole_numbers_only() -> None:
    with pytest.raises(InvalidInput, match=r"cost_cents: 1\.5 must be a whole number"):
        Footprint(1.5, 0, 0)  # type: ignore[arg-type]  # the wrong type is the point


# -- Shapley -------------------------------------------------------------------------------


def additive(costs: dict[str, int]) -> object:
    """A game where a coalition costs the sum of its members (no synergy)."""
    return lambda members: sum(costs[m] for m in members)


def test_three_players_get_the_exact_shapley_values_from_seven_coalitions() -> None:
    # Glove-like cost game: A and B share well (pair 10 instead of 12), C shares with nobody.
    table = {
        frozenset("A"): 6,
        frozenset("B"): 6,
        frozenset("C"): 9,
        frozenset("AB"): 10,
        frozenset("AC"): 15,
        frozenset("BC"): 15,
        frozenset("ABC"): 19,
    }
    asked: list[frozenset[str]] = []

    def cost(members: frozenset[str]) -> int:
        asked.append(members)
        return table[members]

    values = shapley_values("ABC", cost)
    assert values.exact and values.orders == 6 and values.coalitions == 7
    assert sorted(asked, key=sorted) == sorted(table, key=sorted)  # each coalition once
    assert values.values == (Fraction(5), Fraction(5), Fraction(9))
    assert sum(values.values) == 19


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=7), st.integers())
def test_shapley_values_of_an_additive_game_are_each_players_own_cost(
    costs: list[int], seed: int
) -> None:
    own = dict(zip((*NAMES, "G"), costs, strict=False))
    values = shapley_values(list(own), additive(own), seed=seed, samples=30)  # type: ignore[arg-type]
    assert values.values == tuple(Fraction(c) for c in own.values())


def _random_game(draw: st.DrawFn, n: int) -> dict[frozenset[str], int]:
    players = NAMES[:n]
    return {
        frozenset(c): draw(st.integers(min_value=0, max_value=10**6))
        for size in range(1, n + 1)
        for c in itertools.combinations(players, size)
    }


@given(st.data(), st.integers(min_value=1, max_value=6))
def test_shapley_shares_add_up_exactly_sampled_or_not(data: st.DataObject, n: int) -> None:
    game = {m: data.draw(footprints) for m in _random_game(data.draw, n)}
    players = NAMES[:n]
    alone = [StandAlone(p, game[frozenset(p)]) for p in players]
    pooled = game[frozenset(players)]
    shared = shapley_shares(alone, pooled, game.__getitem__, seed=3, samples=40)
    assert shared.rule is Rule.SHAPLEY
    assert shared.exact is (n <= 4)
    assert sums([s.share for s in shared.shares]) == pooled


@given(st.data())
def test_symmetric_retailers_get_equal_shapley_values(data: st.DataObject) -> None:
    # A and B are interchangeable: every coalition costs the same with A as with B.
    base = {frozenset(c): data.draw(st.integers(0, 10**6)) for c in ["A", "C", "AB", "AC"]}
    base[frozenset("ABC")] = data.draw(st.integers(0, 10**6))
    swap = {"A": "B", "B": "A", "C": "C"}
    game = dict(base)
    for members, cost in base.items():
        game[frozenset(swap[m] for m in members)] = cost
    values = shapley_values("ABC", game.__getitem__)
    assert values.values[0] == values.values[1]
    alone = [StandAlone(p, Footprint(game[frozenset(p)], 0, 0)) for p in "ABC"]
    shared = shapley_shares(
        alone,
        Footprint(game[frozenset("ABC")], 0, 0),
        lambda m: Footprint(game[m], 0, 0),
    )
    assert abs(shared.shares[0].share.cost_cents - shared.shares[1].share.cost_cents) <= 1


def test_sampled_shapley_values_repeat_with_the_seed_and_come_close() -> None:
    own = {p: 10 * (i + 1) for i, p in enumerate(NAMES)}

    def cost(members: frozenset[str]) -> int:
        # A fixed cost of 60 shared by whoever joins, plus each one's own.
        return 60 + sum(own[m] for m in members)

    first = shapley_values(NAMES, cost, seed=7, samples=500)
    assert first == shapley_values(NAMES, cost, seed=7, samples=500)
    assert not first.exact and first.orders == 500
    # Exact: own + 60 / 6 = own + 10 for everyone; the first to join pays the 60, so each
    # sampled value is own + 60 * (share of orders where it came first).
    for value, p in zip(first.values, NAMES, strict=True):
        assert abs(float(value) - (own[p] + 10)) < 4


def test_shapley_values_refuse_repeated_players_and_no_samples() -> None:
    with pytest.raises(InvalidInput, match="repeat"):
        shapley_values(["A", "A"], lambda m: 0)
    with pytest.raises(InvalidInput, match="samples"):
        shapley_values(NAMES, lambda m: 0, samples=0)


# -- the core ------------------------------------------------------------------------------


def test_shapley_of_a_concave_three_player_game_is_in_the_core() -> None:
    table = {
        frozenset("A"): 6,
        frozenset("B"): 6,
        frozenset("C"): 9,
        frozenset("AB"): 10,
        frozenset("AC"): 13,
        frozenset("BC"): 13,
        frozenset("ABC"): 16,
    }
    values = shapley_values("ABC", table.__getitem__)
    split = dict(zip("ABC", apportion(16, values.values), strict=True))
    assert core_violations(split, table.__getitem__) == ()


def test_a_split_that_overcharges_a_pair_is_reported_with_its_excess() -> None:
    table = {
        frozenset("A"): 6,
        frozenset("B"): 6,
        frozenset("C"): 9,
        frozenset("AB"): 8,
        frozenset("AC"): 15,
        frozenset("BC"): 15,
    }
    (violation,) = core_violations({"A": 5, "B": 5, "C": 9}, table.__getitem__)
    assert violation.coalition == ("A", "B")
    assert (violation.allocated, violation.alone, violation.excess) == (10, 8, 2)
