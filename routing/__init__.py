"""The routing engine: immutable problem in, solution with ETAs and unserved reasons out.

It imports neither the database nor the web layer nor :mod:`returns`; only
:mod:`routing._ortools` imports OR-Tools.
"""

from routing.errors import InvalidProblemError, RoutingError, RoutingWarning, SolverError
from routing.insertion import Candidate, Insertion, StraightLineLegs, Timeline
from routing.model import (
    Break,
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleKind,
    VehicleType,
)
from routing.solution import (
    Reload,
    Route,
    ScheduledBreak,
    Solution,
    SolveStatus,
    Unserved,
    UnservedReason,
    Visit,
)
from routing.solve import Limits, solve

__all__ = [
    "Break",
    "Candidate",
    "Insertion",
    "InvalidProblemError",
    "Limits",
    "Location",
    "PickupDelivery",
    "Problem",
    "Reload",
    "Route",
    "RoutingError",
    "RoutingWarning",
    "ScheduledBreak",
    "Solution",
    "SolveStatus",
    "SolverError",
    "Stop",
    "StopKind",
    "StraightLineLegs",
    "TimeWindow",
    "Timeline",
    "TravelMatrix",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "VehicleKind",
    "VehicleType",
    "Visit",
    "solve",
]
