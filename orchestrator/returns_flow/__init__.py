"""Returns in the store: started by the customer, sent where they sell again (the :mod:`returns`
engine decides), collected by the delivery routes, and seen as flows per store.

* :mod:`~orchestrator.returns_flow.catalog` — what the returns engine reads: products, stores,
  their daily sales and stock;
* :mod:`~orchestrator.returns_flow.policy` — destination ids, transfer tariffs, the policy;
* :mod:`~orchestrator.returns_flow.decision` — the engine's inputs from the store, its decision;
* :mod:`~orchestrator.returns_flow.lifecycle` — start a return, see it, advance it;
* :mod:`~orchestrator.returns_flow.pickups` — pickup options and the choice of one;
* :mod:`~orchestrator.returns_flow.flows` — where returns are heading, per destination.
"""

from orchestrator.returns_flow.decision import destinations_from
from orchestrator.returns_flow.flows import return_flows
from orchestrator.returns_flow.lifecycle import (
    advance_return,
    get_return,
    list_returns,
    return_public,
    start_return,
)
from orchestrator.returns_flow.pickups import choose_pickup, pickup_options
from orchestrator.returns_flow.policy import (
    LIQUIDATION_ID,
    OUTLET_ID,
    ReturnsPolicy,
    Tariff,
    warehouse_id,
)

__all__ = [
    "LIQUIDATION_ID",
    "OUTLET_ID",
    "ReturnsPolicy",
    "Tariff",
    "advance_return",
    "choose_pickup",
    "destinations_from",
    "get_return",
    "list_returns",
    "pickup_options",
    "return_flows",
    "return_public",
    "start_return",
    "warehouse_id",
]
