"""Whether a split of a shared cost is in the core: no group of players is better off alone.

A split of the grand coalition's cost is *in the core* when every coalition ``S`` pays, in
the split, at most what its members would pay planning together without the others:
``sum(x[i] for i in S) <= cost(S)``. Outside the core some group of retailers has reason to
leave the pool. The Shapley values of a cost game are in the core when the game is concave
(each player's marginal cost falls as the coalition grows), which planned costs need not be —
a time-limited solve is a heuristic — so the benchmark checks and reports it.

Units: whatever whole unit the coalition function returns (cents, metres, grams).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.errors import InvalidInput
from orchestrator.sharing.shapley import CoalitionValue

__all__ = ["MAX_CORE_PLAYERS", "CoreViolation", "core_violations"]

MAX_CORE_PLAYERS = 12
"""Most players checked: every one of the ``2**n - 2`` proper coalitions is asked for."""


@dataclass(frozen=True, slots=True)
class CoreViolation:
    """A coalition that pays more in the split than on its own.

    ``allocated`` is what its members pay in the split, ``alone`` what the coalition costs
    on its own, ``excess = allocated - alone`` (> 0), all in the game's whole unit.
    """

    coalition: tuple[str, ...]
    allocated: int
    alone: int

    @property
    def excess(self) -> int:
        """Units the coalition pays beyond its own cost."""
        return self.allocated - self.alone


def core_violations(
    allocation: Mapping[str, int], value: CoalitionValue
) -> tuple[CoreViolation, ...]:
    """Every proper coalition that the split ``allocation`` charges more than ``value``.

    Parameters
    ----------
    allocation
        Player -> what it pays (whole units); the split of the grand coalition's cost.
    value
        Coalition -> its cost on its own (whole units); asked once per proper, non-empty
        coalition (``2**n - 2`` of them).

    Returns
    -------
    tuple of CoreViolation
        Empty when the split is in the core; else by coalition size, then by the players'
        order in ``allocation``.

    Raises
    ------
    InvalidInput
        If there are no players or more than :data:`MAX_CORE_PLAYERS`.
    """
    players = tuple(allocation)
    if not players:
        raise InvalidInput("allocation", "no players — give each player's share")
    if len(players) > MAX_CORE_PLAYERS:
        raise InvalidInput(
            "allocation",
            f"{len(players)} players need {2 ** len(players) - 2} coalition costs — check "
            f"the core for at most {MAX_CORE_PLAYERS}",
        )
    found: list[CoreViolation] = []
    for size in range(1, len(players)):
        for members in itertools.combinations(players, size):
            paid = sum(allocation[p] for p in members)
            own = int(value(frozenset(members)))
            if paid > own:
                found.append(CoreViolation(members, paid, own))
    return tuple(found)
