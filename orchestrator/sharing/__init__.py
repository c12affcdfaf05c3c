"""Shared capacity: several retailers' orders on one pooled fleet, and who pays what of it.

One concept per module: :mod:`~orchestrator.sharing.shares` (each retailer's share of a pooled
day's cost, kilometres and CO2 by a stated rule, and its saving against planning alone),
:mod:`~orchestrator.sharing.shapley` (Shapley values of a cost game, exact or sampled),
:mod:`~orchestrator.sharing.core` (whether a split leaves some group better off alone) and
:mod:`~orchestrator.sharing.apportion` (whole units that add up exactly). Pure: frozen values
in, results out; no database, no web layer, no solver.
"""

from orchestrator.sharing.apportion import apportion
from orchestrator.sharing.core import CoreViolation, core_violations
from orchestrator.sharing.shapley import ShapleyValues, shapley_values
from orchestrator.sharing.shares import (
    METRICS,
    DayShares,
    Footprint,
    Rule,
    Share,
    StandAlone,
    proportional_shares,
    shapley_shares,
)

__all__ = [
    "METRICS",
    "CoreViolation",
    "DayShares",
    "Footprint",
    "Rule",
    "ShapleyValues",
    "Share",
    "StandAlone",
    "apportion",
    "core_violations",
    "proportional_shares",
    "shapley_shares",
    "shapley_values",
]
