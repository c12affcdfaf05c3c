"""Errors of the returns engine.

The tree::

    ReturnsError                 root of every error this package raises
    └── InvalidReturnInput       the input is wrong (also a ValueError); ``field`` is the path
        │                        of the culprit, outermost first, such as
        │                        ``("destinations", 2, "transfer_cost")``, and the message says
        │                        what to change: a negative price, an unknown condition grade,
        │                        a sale dated outside the history's period
        ├── UnknownSku           the returned item's SKU is not in the sales history's
        │                        catalogue, or the item contradicts the catalogue entry
        └── MissingHistory       a destination that must be judged on its sales has none in
                                 the history (give its sales, or a ``clearance_days``)

Every error is raised when the input is built or first looked up, never deep inside a
computation, and the engine never drops an input silently.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["InvalidReturnInput", "MissingHistory", "ReturnsError", "UnknownSku"]

FieldPath = tuple[str | int, ...]


class ReturnsError(Exception):
    """Root of every error raised by :mod:`returns`."""


class InvalidReturnInput(ReturnsError, ValueError):
    """The input is wrong.

    Parameters
    ----------
    field
        Path of the offending field, outermost first (``("sales", 17, "units")``); a single
        name may be given as a string.
    message
        What is wrong and how to fix it.
    """

    def __init__(self, field: str | Sequence[str | int], message: str) -> None:
        self.field: FieldPath = (field,) if isinstance(field, str) else tuple(field)
        self.message = message
        super().__init__(f"{'.'.join(str(p) for p in self.field)}: {message}")

    def within(self, *prefix: str | int) -> InvalidReturnInput:
        """The same error with ``prefix`` put in front of its field path.

        Lets a container re-raise the error of one of its parts under the part's place
        (``("destinations", 2)`` + ``("stock",)``).
        """
        return type(self)((*prefix, *self.field), self.message)


class UnknownSku(InvalidReturnInput):
    """The SKU is not in the catalogue, or the item disagrees with the catalogue entry."""


class MissingHistory(InvalidReturnInput):
    """A destination has no sales history to judge it on."""
