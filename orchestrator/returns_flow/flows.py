"""Where returns are heading, per destination: items incoming, expected recovery, transfer km
and CO2 — what the planner sees."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import Session, col, select

from orchestrator.errors import NotFound
from orchestrator.models import (
    CarriedTo,
    Depot,
    DestinationFlowPublic,
    ItemReturn,
    ReturnFlowsPublic,
    ReturnStatus,
)
from returns import (
    DestinationKind,
)

__all__ = [
    "return_flows",
]


def return_flows(session: Session, depot_id: int, day: date | None = None) -> ReturnFlowsPublic:
    """Where the depot's returns are heading, per destination.

    With ``day``: the returns collected or handed in that day (by pickup day, whatever their
    status); without: every return not yet received. Stores come first, the busiest first.

    Raises
    ------
    NotFound
        No such depot.
    """
    if session.get(Depot, depot_id) is None:
        raise NotFound("depot", depot_id)
    query = select(ItemReturn).where(ItemReturn.depot_id == depot_id)
    if day is not None:
        query = query.where(ItemReturn.pickup_day == day)
    else:
        query = query.where(ItemReturn.status != ReturnStatus.RECEIVED)
    rows = session.exec(query.order_by(col(ItemReturn.id))).all()
    groups: dict[str, list[ItemReturn]] = {}
    for ret in rows:
        groups.setdefault(ret.destination_id, []).append(ret)
    flows = [
        DestinationFlowPublic(
            destination_id=ident,
            destination_kind=rets[0].destination_kind,
            store_id=rets[0].destination_store_id,
            name=rets[-1].destination_name,
            items=len(rets),
            by_status=dict(sorted(Counter(r.status.value for r in rets).items())),
            expected_recovery_eur=round(sum(r.expected_recovery_eur for r in rets), 2),
            transfer_km=round(sum(r.transfer_km for r in rets), 3),
            transfer_co2_kg=round(sum(r.transfer_co2_kg for r in rets), 4),
            via_depot=sum(1 for r in rets if r.carried_to is CarriedTo.DEPOT),
        )
        for ident, rets in groups.items()
    ]
    flows.sort(
        key=lambda f: (f.destination_kind is not DestinationKind.STORE, -f.items, f.destination_id)
    )
    return ReturnFlowsPublic(
        depot_id=depot_id,
        day=day,
        items=len(rows),
        expected_recovery_eur=round(sum(r.expected_recovery_eur for r in rows), 2),
        destinations=flows,
    )
