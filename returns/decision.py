"""The decision: send the returned item where its expected net recovery is highest.

For each candidate destination::

    expected net = P(sold within H) × price × condition factor × (1 − markdown)
                   − transfer cost − handling cost − CO2 kg × CO2 price

An unsold unit is valued at nothing within the horizon, which favours places that sell.
Two rules come first: a condition C item may only go to an outlet or a liquidation channel,
and when no store or warehouse is likely to sell the item (probability below
``min_probability``) it goes to an outlet or liquidation channel if one is offered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from returns.errors import InvalidReturnInput
from returns.model import Condition, Destination, DestinationKind, ReturnedItem
from returns.resale import ResaleEstimate, ResaleModel
from returns.transfer import (
    DEFAULT_CO2_KG_PER_ITEM_KM,
    DEFAULT_DETOUR_FACTOR,
    transfer_co2_kg,
    transfer_km,
)

__all__ = ["Decision", "DecisionPolicy", "Option", "decide"]

_CLEARANCE_KINDS = frozenset({DestinationKind.OUTLET, DestinationKind.LIQUIDATION})
_FULL_PRICE_KINDS = frozenset({DestinationKind.STORE, DestinationKind.WAREHOUSE})


def _default_condition_factors() -> Mapping[Condition, float]:
    return MappingProxyType({Condition.A: 1.0, Condition.B: 0.8, Condition.C: 0.5})


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    """How options are valued.

    Parameters
    ----------
    co2_price_per_kg
        Internal carbon price, currency per kg CO2 (default 0.10 EUR, i.e. 100 EUR/t).
    co2_kg_per_item_km
        kg CO2 per item and road kilometre of the transfer.
    detour_factor
        Road km per great-circle km.
    condition_factors
        Share of the list price an item of each grade fetches (A 1.0, B 0.8, C 0.5).
    min_probability
        Below this probability of a sale within the horizon at every store and warehouse, the
        item goes to an outlet or liquidation channel when one is offered (0-1).
    currency
        Label of the money in explanations.
    """

    co2_price_per_kg: float = 0.10
    co2_kg_per_item_km: float = DEFAULT_CO2_KG_PER_ITEM_KM
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    condition_factors: Mapping[Condition, float] = field(default_factory=_default_condition_factors)
    min_probability: float = 0.15
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for name in ("co2_price_per_kg", "co2_kg_per_item_km"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidReturnInput(name, f"{value} — give a number, 0 or more")
        if not (math.isfinite(self.detour_factor) and self.detour_factor >= 1):
            raise InvalidReturnInput(
                "detour_factor", f"{self.detour_factor} — give road km per straight km, >= 1"
            )
        factors = dict(self.condition_factors)
        for grade in Condition:
            value = factors.get(grade)
            if value is None or not (math.isfinite(value) and 0 <= value <= 1):
                raise InvalidReturnInput(
                    ("condition_factors", grade.value),
                    f"{value!r} — give the share of the list price grade {grade.value} "
                    "fetches, in [0, 1]",
                )
        object.__setattr__(self, "condition_factors", MappingProxyType(factors))
        if not 0 <= self.min_probability <= 1:
            raise InvalidReturnInput(
                "min_probability", f"{self.min_probability} — give a probability in [0, 1]"
            )


@dataclass(frozen=True, slots=True)
class Option:
    """One destination, valued.

    Attributes
    ----------
    destination
        The candidate.
    estimate
        The resale model's estimate there.
    expected_revenue
        Probability × price × condition factor × (1 − markdown), currency.
    distance_km
        Road km of the transfer.
    co2_kg
        kg CO2 of the transfer.
    co2_cost
        ``co2_kg`` × the CO2 price, currency.
    expected_net
        Expected revenue less transfer, handling and CO2 costs, currency.
    eligible
        Whether the rules allow this destination for this item.
    """

    destination: Destination
    estimate: ResaleEstimate
    expected_revenue: float
    distance_km: float
    co2_kg: float
    co2_cost: float
    expected_net: float
    eligible: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """Where the item goes, why, and every option weighed.

    Attributes
    ----------
    chosen
        The option taken.
    options
        Every option, eligible ones first, each group by expected net recovery, best first.
    explanation
        One sentence for the planner.
    """

    chosen: Option
    options: tuple[Option, ...]
    explanation: str

    @property
    def destination(self) -> str:
        """Id of the chosen destination."""
        return self.chosen.destination.id


def _value(
    item: ReturnedItem, dest: Destination, est: ResaleEstimate, policy: DecisionPolicy
) -> tuple[float, float, float, float, float]:
    price = item.price * policy.condition_factors[item.condition] * (1.0 - dest.markdown)
    revenue = est.probability * price
    km = transfer_km(item.location, dest.location, detour_factor=policy.detour_factor)
    co2 = transfer_co2_kg(km, kg_per_item_km=policy.co2_kg_per_item_km)
    co2_cost = co2 * policy.co2_price_per_kg
    net = revenue - dest.transfer_cost - dest.handling_cost - co2_cost
    return revenue, km, co2, co2_cost, net


def _money(value: float, currency: str) -> str:
    return f"{value:.0f} {currency}"


def _explain(
    item: ReturnedItem,
    chosen: Option,
    options: Sequence[Option],
    policy: DecisionPolicy,
    reason: str | None,
) -> str:
    dest, est = chosen.destination, chosen.estimate
    if dest.clearance_days is not None:
        what = (
            f"{dest.name} takes it within {dest.clearance_days:g} days at "
            f"{1.0 - dest.markdown:.0%} of the price"
        )
    else:
        what = (
            f"{dest.name} sold {est.recent_style_size_sales} of this style in size {item.size} "
            f"in the last {est.recent_days} days and holds {dest.stock}"
        )
    others = [o for o in options if o is not chosen]
    warehouses = [o for o in others if o.destination.kind is DestinationKind.WAREHOUSE]
    candidates = warehouses or [o for o in others if o.eligible] or others
    rival = candidates[0] if candidates else None
    worth = f"expected {_money(chosen.expected_net, policy.currency)} net"
    if rival is not None:
        worth += f" vs {_money(rival.expected_net, policy.currency)} at {rival.destination.name}"
    sentence = f"{what}; {worth}"
    return sentence if reason is None else f"{reason}: {sentence}"


def decide(
    item: ReturnedItem,
    destinations: Sequence[Destination],
    model: ResaleModel,
    policy: DecisionPolicy | None = None,
    *,
    as_of: date | None = None,
) -> Decision:
    """Choose the destination with the highest expected net recovery for a returned item.

    Parameters
    ----------
    item
        The returned item.
    destinations
        Candidate destinations as seen from the item (transfer cost from where it is, stock
        of its SKU); ids must be unique.
    model
        The fitted resale model.
    policy
        Valuation settings (default :class:`DecisionPolicy`).
    as_of
        Day the item would arrive (default: the day after the model's history).

    Returns
    -------
    Decision
        The chosen option, every option, and a one-sentence explanation.

    Raises
    ------
    InvalidReturnInput
        No destination, a duplicate id, or a condition C item with no outlet or liquidation
        channel among the candidates (and the errors of :meth:`ResaleModel.estimates`).
    """
    policy = DecisionPolicy() if policy is None else policy
    destinations = tuple(destinations)
    if not destinations:
        raise InvalidReturnInput("destinations", "is empty — give at least one candidate")
    seen: dict[str, int] = {}
    for k, dest in enumerate(destinations):
        if not isinstance(dest, Destination):
            raise InvalidReturnInput(("destinations", k), f"{dest!r} is not a Destination")
        if dest.id in seen:
            raise InvalidReturnInput(
                ("destinations", k, "id"),
                f"{dest.id!r} is already destinations[{seen[dest.id]}] — give each once",
            )
        seen[dest.id] = k
    estimates = model.estimates(item, destinations, as_of=as_of)

    reason: str | None = None
    allowed = {d.kind for d in destinations}
    if item.condition is Condition.C:
        allowed = set(_CLEARANCE_KINDS)
        if not any(d.kind in allowed for d in destinations):
            raise InvalidReturnInput(
                "destinations",
                "a condition C item can only go to an outlet or a liquidation channel, and "
                "none is among the candidates — add one",
            )
        reason = "Condition C goes to an outlet or liquidation"
    else:
        full_price = [
            e for d, e in zip(destinations, estimates, strict=True) if d.kind in _FULL_PRICE_KINDS
        ]
        best = max(full_price, key=lambda e: e.probability, default=None)
        clearance_offered = any(d.kind in _CLEARANCE_KINDS for d in destinations)
        if best is not None and best.probability < policy.min_probability and clearance_offered:
            allowed = set(_CLEARANCE_KINDS)
            name = destinations[seen[best.destination]].name
            reason = (
                f"No store or warehouse is likely to sell it within {best.horizon_days:g} days "
                f"(best {name}, {best.probability:.0%})"
            )

    options = []
    for dest, est in zip(destinations, estimates, strict=True):
        revenue, km, co2, co2_cost, net = _value(item, dest, est, policy)
        options.append(
            Option(
                destination=dest,
                estimate=est,
                expected_revenue=revenue,
                distance_km=km,
                co2_kg=co2,
                co2_cost=co2_cost,
                expected_net=net,
                eligible=dest.kind in allowed,
            )
        )
    # Best first: eligible, then net, then the likelier sale; the given order breaks ties.
    order = sorted(
        range(len(options)),
        key=lambda k: (
            not options[k].eligible,
            -options[k].expected_net,
            -options[k].estimate.probability,
            k,
        ),
    )
    ranked = tuple(options[k] for k in order)
    chosen = ranked[0]
    return Decision(
        chosen=chosen,
        options=ranked,
        explanation=_explain(item, chosen, ranked, policy, reason),
    )
