"""The returns engine: send each returned item where it is most likely to sell again.

Pure computation on immutable inputs: it imports neither the database nor the web layer nor
:mod:`routing`. Fit a :class:`ResaleModel` on a :class:`SalesHistory` and ask it how likely
each candidate :class:`Destination` is to resell a :class:`ReturnedItem`.
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
from returns.resale import (
    ResaleConfig,
    ResaleEstimate,
    ResaleModel,
    calibrate,
    fit_resale_model,
)

__all__ = [
    "Condition",
    "Destination",
    "DestinationKind",
    "InvalidReturnInput",
    "MissingHistory",
    "Point",
    "ResaleConfig",
    "ResaleEstimate",
    "ResaleModel",
    "ReturnedItem",
    "ReturnsError",
    "Sale",
    "SalesHistory",
    "UnknownSku",
    "Variant",
    "calibrate",
    "fit_resale_model",
]
