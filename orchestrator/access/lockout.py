"""Failed authentications per client address, and how long an address must wait.

An address that failed ``limit`` times within the last ``window_s`` seconds is locked out
until the oldest of those failures leaves the window: :meth:`Lockout.retry_after` says how
long. Successes are not counted and reset nothing. Memory is bounded: at most
``max_addresses`` addresses are remembered (the least recently failing is forgotten first),
each with at most ``limit`` times.

Kept in memory by each server process (``lastmile serve --workers N`` has N of them), so
the limit holds per process; it needs no store and costs nothing on a request from an
address that has not failed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["Lockout"]


class Lockout:
    """Failed authentications per address within a sliding window.

    Parameters
    ----------
    limit
        Failures an address may have within the window; 0 turns the lockout off.
    window_s
        The window, seconds.
    max_addresses
        Addresses remembered at most (least recently failing forgotten first).
    clock
        Seconds from any fixed point (:func:`time.monotonic`; tests pass their own).
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        max_addresses: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0 or window_s <= 0 or max_addresses < 1:
            raise ValueError(
                f"limit {limit} must be >= 0, window_s {window_s} > 0 and "
                f"max_addresses {max_addresses} >= 1"
            )
        self.limit = limit
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        """Addresses remembered."""
        return len(self._failures)

    def retry_after(self, address: str) -> float | None:
        """Seconds ``address`` must wait before it may try again, or ``None`` if it may now."""
        times = self._failures.get(address)
        if times is None or self.limit == 0 or len(times) < self.limit:
            return None
        wait = times[-self.limit] + self.window_s - self._clock()
        return wait if wait > 0 else None

    def record_failure(self, address: str) -> None:
        """Count a failed authentication of ``address`` now."""
        if self.limit == 0:
            return
        now = self._clock()
        times = self._failures.get(address)
        if times is None:
            times = self._failures[address] = []
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(address)
        times.append(now)
        start = now - self.window_s
        # Only the last `limit` failures within the window matter.
        keep = next((i for i, t in enumerate(times) if t > start), len(times))
        del times[: max(keep, len(times) - self.limit)]
