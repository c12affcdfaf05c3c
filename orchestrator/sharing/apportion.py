"""Whole units that add up exactly: a total split by rational quotas (largest remainders).

A shared day's cost, metres and grams are split among retailers by a rule that yields
rational quotas (a proportion of the total, an average of marginal costs). Money is paid in
cents and distances are reported in metres, so each share must be a whole number and the
shares must add up to the total exactly — rounding each quota on its own can leave a cent
over or missing. The rule used here is Hamilton's (largest remainders): every party gets the
floor of its quota, and the units left over (fewer than the number of parties) go one each to
the parties with the largest fractional parts, ties to the earlier party in the given order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from orchestrator.errors import InvalidInput

__all__ = ["apportion"]


def apportion(total: int, quotas: Sequence[Fraction]) -> tuple[int, ...]:
    """Whole shares of ``total`` as close to ``quotas`` as whole units allow.

    Parameters
    ----------
    total
        The whole to split, in whole units (cents, metres, grams); may be negative.
    quotas
        Each party's exact share, in the same units; they must add up to ``total``.

    Returns
    -------
    tuple of int
        One whole share per quota, in order, adding up to ``total``; each is the floor or the
        ceiling of its quota (largest remainders first, ties to the earlier party).

    Raises
    ------
    InvalidInput
        If there are no quotas, or they do not add up to ``total``.
    """
    if not quotas:
        raise InvalidInput("quotas", "no parties to share among — give one quota per party")
    exact = sum(quotas, Fraction(0))
    if exact != total:
        raise InvalidInput(
            "quotas", f"the quotas add up to {float(exact)}, not the total {total} — rescale them"
        )
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)  # 0 <= left < len(quotas), since each remainder is in [0, 1)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return tuple(floors)
