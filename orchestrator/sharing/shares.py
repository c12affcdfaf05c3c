"""Each retailer's share of a pooled day's cost, kilometres and CO2, and its saving.

Several retailers' orders planned together on one pooled fleet cost less in total than each
retailer planning alone on its own vehicles; this module says who pays what of the pooled
day, by a stated rule, so that:

* the shares add up **exactly** to the pooled day's figures — cost in cents, distance in
  metres, CO2 in grams are whole numbers, and the split into whole units follows one stated
  rule (:func:`orchestrator.sharing.apportion.apportion`: largest remainders, ties to the
  retailer listed first);
* each retailer sees its **saving** against planning alone (its stand-alone figures minus its
  share, and that as a percentage of its stand-alone figures).

The rules (:class:`Rule`), applied to each figure on its own (cost, metres and grams):

``proportional`` (the default)
    A retailer's share of the pooled figure is proportional to its stand-alone figure: with
    stand-alone costs ``c_i`` and pooled cost ``P``, retailer ``i`` pays ``P * c_i / sum(c)``.
    It needs nothing but the stand-alone plans, and when the pool costs less than the
    retailers alone (``P <= sum(c)``) nobody pays more than alone — every retailer saves the
    same percentage (up to a cent of rounding).
``shapley``
    A retailer's share is its Shapley value (:mod:`orchestrator.sharing.shapley`): its
    marginal cost averaged over the orders in which retailers could join the pool. It needs
    the cost of every coalition (exact up to four retailers), and rewards a retailer whose
    orders fit well among the others' (it adds little to a coalition) more than one whose
    orders lie apart.

Pure: plain frozen values in, a :class:`DayShares` out; no database, no solver — the caller
plans the coalitions and hands their figures in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from orchestrator.errors import InvalidInput
from orchestrator.sharing.apportion import apportion
from orchestrator.sharing.shapley import DEFAULT_SAMPLES, shapley_values

__all__ = [
    "METRICS",
    "Coalition",
    "DayShares",
    "Footprint",
    "Rule",
    "Share",
    "StandAlone",
    "proportional_shares",
    "shapley_shares",
]

METRICS = ("cost_cents", "distance_m", "co2_g")
"""The figures shared, each in whole units: cents (EUR / 100), metres, grams CO2."""


class Rule(StrEnum):
    """How a pooled day is shared (module docstring)."""

    PROPORTIONAL = "proportional"
    SHAPLEY = "shapley"


@dataclass(frozen=True, slots=True)
class Footprint:
    """What a plan costs, or a retailer's share of it: ``cost_cents`` (EUR cents, fixed costs
    included), ``distance_m`` (metres driven), ``co2_g`` (grams CO2); whole numbers. A plan's
    are never negative (checked where plans come in); a Shapley share may be, for a retailer
    whose orders make every coalition cheaper."""

    cost_cents: int
    distance_m: int
    co2_g: int

    def __post_init__(self) -> None:
        for name in METRICS:
            amount = getattr(self, name)
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise InvalidInput(
                    name,
                    f"{amount!r} must be a whole number — use Footprint.of(...) to round EUR, "
                    "metres and grams",
                )

    @classmethod
    def of(cls, cost_eur: float, distance_m: float, co2_g: float) -> Footprint:
        """A footprint from a plan's figures: EUR (rounded to the cent), metres and grams
        (rounded to whole units, halves to even); numpy numbers are taken too."""
        return cls(round(float(cost_eur) * 100), round(float(distance_m)), round(float(co2_g)))

    def get(self, metric: str) -> int:
        """The figure named by one of :data:`METRICS`."""
        if metric not in METRICS:
            raise InvalidInput("metric", f"{metric!r} is not one of {list(METRICS)}")
        return int(getattr(self, metric))

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(
            self.cost_cents + other.cost_cents,
            self.distance_m + other.distance_m,
            self.co2_g + other.co2_g,
        )


_ZERO = Footprint(0, 0, 0)


@dataclass(frozen=True, slots=True)
class StandAlone:
    """A retailer's day planned alone on its own fleet: its name and its footprint."""

    retailer: str
    alone: Footprint


@dataclass(frozen=True, slots=True)
class Share:
    """One retailer's part of the pooled day: what it would pay alone, what it pays in the
    pool, and the difference (positive: it saves)."""

    retailer: str
    alone: Footprint
    share: Footprint

    def saving(self, metric: str) -> int:
        """Whole units saved against planning alone (negative: the pool costs it more)."""
        return self.alone.get(metric) - self.share.get(metric)

    def saving_pct(self, metric: str) -> float | None:
        """The saving as a percentage of the stand-alone figure (``None`` when that is 0)."""
        alone = self.alone.get(metric)
        return None if alone == 0 else 100.0 * self.saving(metric) / alone


@dataclass(frozen=True, slots=True)
class DayShares:
    """A pooled day shared among its retailers.

    Parameters
    ----------
    rule
        The rule applied.
    pooled
        The pooled day's footprint; the shares add up to it exactly, figure by figure.
    shares
        One per retailer, in the order given.
    exact
        ``False`` when the rule's values were estimated by sampling (Shapley, many retailers).
    """

    rule: Rule
    pooled: Footprint
    shares: tuple[Share, ...]
    exact: bool = True

    @property
    def alone(self) -> Footprint:
        """The retailers' stand-alone footprints added up."""
        total = _ZERO
        for s in self.shares:
            total = total + s.alone
        return total

    def saving_pct(self, metric: str) -> float | None:
        """The pool's saving against everyone alone, percent of the stand-alone total."""
        alone = self.alone.get(metric)
        return None if alone == 0 else 100.0 * (alone - self.pooled.get(metric)) / alone

    def share_of(self, retailer: str) -> Share:
        """The named retailer's share."""
        for s in self.shares:
            if s.retailer == retailer:
                return s
        raise InvalidInput("retailer", f"{retailer!r} is not in this day's shares")


Coalition = Callable[[frozenset[str]], Footprint]
"""Retailers' names -> the footprint of their orders planned together on their pooled fleets."""


def proportional_shares(alone: Sequence[StandAlone], pooled: Footprint) -> DayShares:
    """The pooled day shared in proportion to each retailer's stand-alone figures.

    Parameters
    ----------
    alone
        Each retailer's day planned alone (distinct names, at least one).
    pooled
        The footprint of every retailer's orders planned together on the pooled fleet.

    Returns
    -------
    DayShares
        Per figure, ``pooled * alone_i / sum(alone)`` in whole units by largest remainders;
        a figure that is 0 for every retailer alone is split equally.
    """
    names = _names(alone, pooled)
    split: dict[str, list[int]] = {name: [] for name in names}
    for metric in METRICS:
        weights = [a.alone.get(metric) for a in alone]
        whole = sum(weights)
        total = pooled.get(metric)
        if whole == 0:
            quotas = [Fraction(total, len(weights))] * len(weights)
        else:
            quotas = [Fraction(total * w, whole) for w in weights]
        for name, part in zip(names, apportion(total, quotas), strict=True):
            split[name].append(part)
    return DayShares(
        Rule.PROPORTIONAL,
        pooled,
        tuple(Share(a.retailer, a.alone, Footprint(*split[a.retailer])) for a in alone),
    )


def shapley_shares(
    alone: Sequence[StandAlone],
    pooled: Footprint,
    coalition: Coalition,
    *,
    seed: int = 0,
    samples: int = DEFAULT_SAMPLES,
) -> DayShares:
    """The pooled day shared by Shapley values, figure by figure.

    Parameters
    ----------
    alone
        Each retailer's day planned alone (distinct names, at least one): the coalitions of one.
    pooled
        The grand coalition's footprint.
    coalition
        The footprint of any other coalition (two or more retailers, not all of them); asked
        once per coalition — for three retailers, the three pairs.
    seed, samples
        Sampled joining orders beyond :data:`~orchestrator.sharing.shapley.EXACT_UP_TO`
        retailers (:func:`~orchestrator.sharing.shapley.shapley_values`).

    Returns
    -------
    DayShares
        Shares that add up exactly to ``pooled`` (largest remainders of the exact values);
        ``exact`` says whether every joining order was enumerated. A share may exceed a
        retailer's stand-alone figure when coalition costs are not subadditive; check with
        :func:`orchestrator.sharing.core.core_violations`.
    """
    names = _names(alone, pooled)
    everyone = frozenset(names)
    known: dict[frozenset[str], Footprint] = {frozenset({a.retailer}): a.alone for a in alone}
    known[everyone] = pooled

    def footprint(members: frozenset[str]) -> Footprint:
        if members not in known:
            known[members] = coalition(members)
        return known[members]

    split: dict[str, list[int]] = {name: [] for name in names}
    exact = True
    for metric in METRICS:
        values = shapley_values(names, _figure(footprint, metric), seed=seed, samples=samples)
        exact = exact and values.exact
        parts = apportion(pooled.get(metric), values.values)
        for name, part in zip(names, parts, strict=True):
            split[name].append(part)
    return DayShares(
        Rule.SHAPLEY,
        pooled,
        tuple(Share(a.retailer, a.alone, Footprint(*split[a.retailer])) for a in alone),
        exact=exact,
    )


def _figure(footprint: Coalition, metric: str) -> Callable[[frozenset[str]], int]:
    """The coalition game of one figure."""

    def value(members: frozenset[str]) -> int:
        return footprint(members).get(metric)

    return value


def _checked(name: str | int, plan: Footprint, where: str) -> None:
    """A plan's footprint is never negative."""
    for metric in METRICS:
        if plan.get(metric) < 0:
            raise InvalidInput(
                (where, name, metric) if where == "alone" else (where, metric),
                f"{plan.get(metric)} is negative — a plan's figures are >= 0",
            )


def _names(alone: Sequence[StandAlone], pooled: Footprint) -> tuple[str, ...]:
    """The retailers' names, checked distinct, with every plan's figures checked >= 0."""
    names = tuple(a.retailer for a in alone)
    if not names:
        raise InvalidInput("alone", "no retailers — give each retailer's stand-alone plan")
    if len(set(names)) != len(names):
        raise InvalidInput("alone", f"retailers repeat in {list(names)} — give each once")
    for i, a in enumerate(alone):
        _checked(i, a.alone, "alone")
    _checked(0, pooled, "pooled")
    return names
