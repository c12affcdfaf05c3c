"""Shapley values of a cost game: each player's average marginal cost over joining orders.

A coalition's cost is what its members' orders cost planned together on their pooled fleet;
a player's Shapley value is its marginal cost (the coalition's cost with it minus without
it) averaged over every order in which the players could join. The values add up to the
grand coalition's cost (efficiency), equal players get equal values (symmetry), and a player
who adds nothing pays nothing — the fair-division axioms a retailer can check.

With ``n`` players there are ``n!`` orders but only ``2**n`` coalitions, so up to
:data:`EXACT_UP_TO` players every order is enumerated (each coalition's cost computed once:
for three retailers, the three alone, the three pairs and all three); beyond it, orders are
sampled uniformly with a seeded generator (the same seed gives the same estimate) and the
estimate is the average over the sampled orders — still efficient exactly, since every order's
marginal costs add up to the grand coalition's cost.

Units: whatever whole unit the coalition function returns (cents, metres, grams); the values
are exact fractions of it.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from orchestrator.errors import InvalidInput

__all__ = [
    "DEFAULT_SAMPLES",
    "EXACT_UP_TO",
    "CoalitionValue",
    "ShapleyValues",
    "shapley_values",
]

EXACT_UP_TO = 4
"""Up to this many players every joining order is enumerated (4! = 24 orders, 16 coalitions);
beyond, orders are sampled."""

DEFAULT_SAMPLES = 2_000
"""Joining orders sampled when there are more than :data:`EXACT_UP_TO` players. Each order
costs up to ``n`` new coalition values, cached, so a costly coalition function (a solve per
coalition) should be given fewer."""

CoalitionValue = Callable[[frozenset[str]], int]
"""A coalition (players' names) -> its cost in whole units; the empty coalition costs 0 and is
never asked for."""


@dataclass(frozen=True, slots=True)
class ShapleyValues:
    """Each player's Shapley value, in order, with how it was obtained.

    Parameters
    ----------
    players
        The players' names, in the order given.
    values
        Each player's value (exact fraction of the coalition function's unit); they add up to
        the grand coalition's cost.
    exact
        Whether every joining order was enumerated (else the values are a sampled estimate).
    orders
        Joining orders averaged over (``n!`` when exact).
    coalitions
        Distinct coalitions whose cost was asked for.
    """

    players: tuple[str, ...]
    values: tuple[Fraction, ...]
    exact: bool
    orders: int
    coalitions: int


def shapley_values(
    players: Sequence[str],
    value: CoalitionValue,
    *,
    seed: int = 0,
    samples: int = DEFAULT_SAMPLES,
) -> ShapleyValues:
    """The Shapley values of the cost game ``value`` among ``players``.

    Parameters
    ----------
    players
        Distinct names, at least one.
    value
        Coalition -> cost (whole units). Called once per distinct coalition (cached here).
    seed
        Seed of the sampled joining orders (more than :data:`EXACT_UP_TO` players only).
    samples
        Joining orders to sample (more than :data:`EXACT_UP_TO` players only), >= 1.

    Raises
    ------
    InvalidInput
        If there are no players, a name repeats, or ``samples`` is below 1.
    """
    names = tuple(players)
    if not names:
        raise InvalidInput("players", "no players — give at least one name")
    if len(set(names)) != len(names):
        raise InvalidInput("players", f"names repeat in {list(names)} — give each player once")
    if samples < 1:
        raise InvalidInput("samples", f"{samples} joining orders — sample at least 1")
    cache: dict[frozenset[str], int] = {frozenset(): 0}

    def cost(coalition: frozenset[str]) -> int:
        if coalition not in cache:
            cache[coalition] = int(value(coalition))
        return cache[coalition]

    exact = len(names) <= EXACT_UP_TO
    if exact:
        orders: Sequence[Sequence[str]] = list(itertools.permutations(names))
    else:
        rng = random.Random(seed)
        orders = [rng.sample(names, len(names)) for _ in range(samples)]
    totals = dict.fromkeys(names, 0)
    for order in orders:
        joined: frozenset[str] = frozenset()
        before = 0
        for name in order:
            joined = joined | {name}
            after = cost(joined)
            totals[name] += after - before
            before = after
    n_orders = len(orders)
    if exact:
        assert n_orders == math.factorial(len(names))
    return ShapleyValues(
        players=names,
        values=tuple(Fraction(totals[name], n_orders) for name in names),
        exact=exact,
        orders=n_orders,
        coalitions=len(cache) - 1,
    )
