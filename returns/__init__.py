"""The returns engine: send each returned item where it is most likely to sell again.

Pure computation on immutable inputs: it imports neither the database nor the web layer nor
:mod:`routing`.
"""

from returns.errors import InvalidReturnInput, MissingHistory, ReturnsError, UnknownSku
from returns.model import (
    Condition,
    Destination,
    DestinationKind,
    Point,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
)

__all__ = [
    "Condition",
    "Destination",
    "DestinationKind",
    "InvalidReturnInput",
    "MissingHistory",
    "Point",
    "ReturnedItem",
    "ReturnsError",
    "Sale",
    "SalesHistory",
    "UnknownSku",
    "Variant",
]
