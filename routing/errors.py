"""Errors of the routing engine.

The tree::

    RoutingError                 root of every error this package raises
    ├── InvalidProblemError      the problem is malformed (also a ValueError):
    │                            a window that ends before it starts, a negative demand, an unknown
    │                            skill or location, a NaN coordinate. The message names the stop,
    │                            vehicle or field and says what to change.
    └── SolverError              the solver failed for a reason that is not the input's fault

    RoutingWarning               soft problems (a warm start that could not be used, ...)

Infeasibility is not an error: a stop that cannot be served is reported in
:attr:`routing.Solution.unserved` with a typed reason.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Root of every error raised by :mod:`routing`."""


class InvalidProblemError(RoutingError, ValueError):
    """The problem is malformed; the message names the culprit and the fix."""


class SolverError(RoutingError):
    """The solver failed for a reason that is not the input's fault."""


class RoutingWarning(UserWarning):
    """A soft problem: the solve went on, but not quite as asked."""
