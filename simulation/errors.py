"""The simulator's errors: one root, each message naming the value and the fix.

The tree::

    SimulationError                  anything the simulator raises on purpose
    ├── ScenarioError (ValueError)   a scenario file or value is wrong; ``field`` is the path
    │                                of the culprit ("fleet.hubs.0.vehicles.robot") and the
    │                                message says what to put there instead
    └── InvariantError (AssertionError)
                                     the simulation broke one of its own invariants (an order
                                     lost, a robot below zero charge, a courier over capacity):
                                     a bug in the simulator, never in the scenario

The API layer maps :class:`ScenarioError` to HTTP 422 with :attr:`ScenarioError.field`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["InvariantError", "ScenarioError", "SimulationError"]


class SimulationError(Exception):
    """Root of every error the simulator raises on purpose."""


class ScenarioError(SimulationError, ValueError):
    """A scenario value is invalid.

    Parameters
    ----------
    field
        Dotted path of the offending field (``"demand.hourly_profile"``); ``""`` for the file
        as a whole.
    message
        What is wrong and what to put there instead.
    problems
        Every ``(field, message)`` found when several fields are wrong at once; the first is
        ``(field, message)``.
    """

    def __init__(
        self,
        field: str,
        message: str,
        *,
        problems: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        self.field = field
        self.message = message
        self.problems: tuple[tuple[str, str], ...] = tuple(problems or ((field, message),))
        lines = [f"{f or 'scenario'}: {m}" for f, m in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else "\n".join(lines))

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries in sweeps: keep the keyword argument when pickled.
        return (_rebuild, (self.field, self.message, self.problems))


def _rebuild(field: str, message: str, problems: tuple[tuple[str, str], ...]) -> ScenarioError:
    return ScenarioError(field, message, problems=problems)


class InvariantError(SimulationError, AssertionError):
    """The simulation broke one of its own invariants — a bug in the simulator, never in the
    scenario: please report it with the scenario and the seed."""
