"""Errors of the orchestrator: the domain says what went wrong, the API decides the HTTP code.

The tree::

    OrchestratorError            root of every error this package raises
    ├── NotFound                 no such id (the API answers 404; also for ids a caller may
    │                            not see, so that ids cannot be probed)
    ├── Conflict                 the request contradicts what is stored: an idempotency key
    │                            reused with different content, re-planning a day whose plan
    │                            is gone, marking a stop that is already closed (409)
    ├── InvalidInput             the input is wrong; ``field`` is the path of the culprit,
    │   │                        such as ``("items", 0, "weight_g")`` (422; also a ValueError)
    │   └── VroomInputError      (in :mod:`orchestrator.vroom`) a VROOM payload is invalid or
    │                            unsupported; ``field_path`` in VROOM's spelling
    │                            (``jobs[3].time_windows[0]``)
    └── PlanningFailed           the solver failed; the previous plan is left as it was

Persistence look-ups return ``X | None``; only services raise. Every error survives a trip
through :mod:`pickle` (``__reduce__``), so a solve run in a worker process raises in the
caller exactly what it would have raised in-process.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Conflict", "InvalidInput", "NotFound", "OrchestratorError", "PlanningFailed"]


class OrchestratorError(Exception):
    """Root of every error raised by :mod:`orchestrator`."""


class NotFound(OrchestratorError):
    """The resource does not exist (or is not visible to the caller).

    Parameters
    ----------
    resource
        Kind of resource (``"order"``, ``"plan"``).
    ident
        The id that was asked for.
    """

    def __init__(self, resource: str, ident: object) -> None:
        self.resource = resource
        self.ident = ident
        super().__init__(f"{resource} {ident!r} not found — check the id")

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.resource, self.ident)


class Conflict(OrchestratorError):
    """The request contradicts the stored state; the message says what to do instead."""


class InvalidInput(OrchestratorError, ValueError):
    """The input is wrong.

    Parameters
    ----------
    field
        Path of the offending field, outermost first (``("items", 0, "weight_g")``); a
        single name may be given as a string.
    message
        What is wrong and how to fix it.
    """

    def __init__(self, field: str | Sequence[str | int], message: str) -> None:
        self.field: tuple[str | int, ...] = (field,) if isinstance(field, str) else tuple(field)
        self.message = message
        super().__init__(f"{self.where}: {message}" if self.where else message)

    @property
    def where(self) -> str:
        """The field path as text (``items.0.weight_g``); empty for the input as a whole."""
        return ".".join(str(p) for p in self.field)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.field, self.message)


class PlanningFailed(OrchestratorError):
    """The solve failed; the plan is recorded as failed and the previous plan stays current.

    ``plan_id`` is the id of the failed plan's record (status ``failed``, with the error).
    """

    def __init__(self, message: str, plan_id: int | None = None) -> None:
        self.plan_id = plan_id
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (str(self), self.plan_id)
