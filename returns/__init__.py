"""The returns engine: send each returned item where it is most likely to sell again.

Pure computation on immutable inputs: it imports neither the database nor the web layer nor
:mod:`routing`. Fit a :class:`ResaleModel` on a :class:`SalesHistory` (:func:`calibrate`
chooses its recency and trend settings), then :func:`decide` sends each
:class:`ReturnedItem` to the candidate :class:`Destination` with the highest expected net
recovery, with a one-sentence explanation.
"""

from returns.decision import Decision, DecisionPolicy, Option, decide
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
from returns.transfer import transfer_co2_kg, transfer_km

__all__ = [
    "Condition",
    "Decision",
    "DecisionPolicy",
    "Destination",
    "DestinationKind",
    "InvalidReturnInput",
    "MissingHistory",
    "Option",
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
    "decide",
    "fit_resale_model",
    "transfer_co2_kg",
    "transfer_km",
]
