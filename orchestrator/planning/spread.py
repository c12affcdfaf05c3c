"""How far actual times stray from planned ones, learned from outcomes, and the buffer a
promise is planned on.

A leg's actual travel time over its planned one (and a stop's actual service time over its
planned one) is taken as log-normal: ``actual = planned * exp(e)`` with ``e ~ N(mu, sigma)``.
:class:`Spread` keeps the count, mean and sum of squared deviations of ``e`` (Welford's
running update, so one observation is O(1) and nothing is stored per observation).

The spread is learned per **key** (:class:`SpreadKey`): what is timed (``travel`` or
``service``), the routing profile (``car``, ``bike``, ``walk``), the local hour and the zone (a
square of :data:`ZONE_CELL_M` metres, :func:`zone_of`). Few outcomes fall in one hour and zone,
so an estimate is shrunk toward the next coarser one — (profile, hour, zone) toward (profile,
hour) toward (profile) toward the default (:data:`DEFAULT_SIGMA`, the twin's shipped noise) —
with :data:`PRIOR_WEIGHT` pseudo-observations: with no outcomes a key gives the default, with
many its own figure (:meth:`SpreadBook.estimate`).

A promise is planned on a **quantile**: a planned time multiplied by :func:`quantile_factor`
(``exp(mu + z * sigma)``, ``z`` the standard normal quantile of the confidence) is exceeded
with probability ``1 - confidence`` — per leg, so a route of many legs is planned more safely
than the confidence states (leg errors partly cancel); :class:`Buffer` carries the factors a
plan scales its durations by. :func:`keep_probability` is the other way round: the probability
that a hand-over planned ``expected_s`` after the route's start, with ``slack_s`` left before
the window closes, is inside it (the route's error taken as one log-normal factor on the whole
elapsed time: cautious, errors of a route's legs are taken as fully correlated).

Units: seconds; ratios are actual over planned; ``sigma`` and ``mu`` are of the natural log.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from routing.insertion import Legs, LegTravel

__all__ = [
    "ANY_HOUR",
    "ANY_ZONE",
    "DEFAULT_SIGMA",
    "PRIOR_WEIGHT",
    "ZONE_CELL_M",
    "Buffer",
    "Estimate",
    "Spread",
    "SpreadBook",
    "SpreadKey",
    "Timed",
    "keep_probability",
    "quantile_factor",
    "zone_of",
]

Timed = Literal["travel", "service"]
"""What a ratio times: a leg's travel or a stop's service."""

DEFAULT_SIGMA: Mapping[str, float] = MappingProxyType({"travel": 0.15, "service": 0.3})
"""The spread assumed before any outcome (log sigma), per :data:`Timed`: the shipped
examples' noise (``noise.travel_sigma``, ``noise.service_sigma``)."""

PRIOR_WEIGHT = 20.0
"""Pseudo-observations of the coarser estimate an estimate is shrunk toward."""

ZONE_CELL_M = 1_000.0
"""Side of a zone's square, metres."""

ANY_HOUR = -1
ANY_ZONE = "*"

_MAX_RATIO = 20.0
"""Ratios outside ``[1/20, 20]`` are clipped: a stop timed across a lunch break or a clock
set wrong must not swamp the estimate."""


@dataclass(frozen=True, slots=True)
class SpreadKey:
    """What the spread is of: ``timed``, ``profile``, local ``hour`` (0-23, or
    :data:`ANY_HOUR`) and ``zone`` (:func:`zone_of`, or :data:`ANY_ZONE`)."""

    timed: Timed
    profile: str
    hour: int = ANY_HOUR
    zone: str = ANY_ZONE

    def __post_init__(self) -> None:
        if self.timed not in DEFAULT_SIGMA:
            raise ValueError(f"timed {self.timed!r}: use 'travel' or 'service'")
        if not (self.hour == ANY_HOUR or 0 <= self.hour <= 23):
            raise ValueError(f"hour {self.hour}: give a local hour 0-23 or ANY_HOUR (-1)")
        if self.zone != ANY_ZONE and self.hour == ANY_HOUR:
            raise ValueError("a zone's spread is kept per hour: give the hour as well")

    def coarser(self) -> SpreadKey | None:
        """The key this one's estimate is shrunk toward (``None`` for the profile's own)."""
        if self.zone != ANY_ZONE:
            return replace(self, zone=ANY_ZONE)
        if self.hour != ANY_HOUR:
            return replace(self, hour=ANY_HOUR)
        return None

    def levels(self) -> tuple[SpreadKey, ...]:
        """This key and every coarser one, finest first (what one observation updates)."""
        out = [self]
        while (up := out[-1].coarser()) is not None:
            out.append(up)
        return tuple(out)


def zone_of(lat: float, lon: float, cell_m: float = ZONE_CELL_M) -> str:
    """The zone of a point: the ``cell_m`` square it falls in, as ``"row:col"`` (rows of
    latitude, columns of longitude scaled at the point's latitude — fine for a city)."""
    metres_per_deg = 111_320.0
    row = math.floor(lat * metres_per_deg / cell_m)
    col = math.floor(lon * metres_per_deg * math.cos(math.radians(lat)) / cell_m)
    return f"{row}:{col}"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A spread to plan on: ``mu`` and ``sigma`` of the log ratio, and ``n`` the outcomes
    behind it at its own level (0 when only the default speaks)."""

    mu: float
    sigma: float
    n: int


@dataclass(frozen=True, slots=True)
class Spread:
    """Running statistics of log(actual / planned): ``n``, ``mean``, ``m2`` (Welford)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def observe(self, ratio: float) -> Spread:
        """With one more ratio (actual over planned, > 0; clipped to [1/20, 20]).

        Raises
        ------
        ValueError
            For a ratio that is not a positive finite number.
        """
        if not (math.isfinite(ratio) and ratio > 0):
            raise ValueError(f"ratio {ratio!r}: give actual over planned, a positive number")
        e = math.log(min(max(ratio, 1 / _MAX_RATIO), _MAX_RATIO))
        n = self.n + 1
        delta = e - self.mean
        mean = self.mean + delta / n
        return Spread(n, mean, self.m2 + delta * (e - mean))

    def shrunk(self, prior: Estimate, weight: float = PRIOR_WEIGHT) -> Estimate:
        """This spread's estimate, shrunk toward ``prior`` by ``weight`` pseudo-observations:
        the pooled mean, and the pooled second moment about it."""
        n = self.n
        if n == 0:
            return Estimate(prior.mu, prior.sigma, 0)
        mu = (weight * prior.mu + n * self.mean) / (weight + n)
        second = (
            weight * (prior.sigma**2 + (prior.mu - mu) ** 2) + self.m2 + n * (self.mean - mu) ** 2
        )
        return Estimate(mu, math.sqrt(second / (weight + n)), n)


@dataclass(frozen=True, slots=True)
class SpreadBook:
    """Spreads learned per key (every level of each observation's key), immutable: learning
    gives a new book. ``defaults`` overrides :data:`DEFAULT_SIGMA` (e.g. a depot's settings)."""

    spreads: Mapping[SpreadKey, Spread] = field(default_factory=dict)
    defaults: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SIGMA)

    def observe(self, key: SpreadKey, ratio: float) -> SpreadBook:
        """The book with one more outcome at ``key`` (and at each coarser level)."""
        return self.observe_many([(key, ratio)])

    def observe_many(self, outcomes: Iterable[tuple[SpreadKey, float]]) -> SpreadBook:
        """The book with many outcomes (one copy of the mapping, not one per outcome)."""
        spreads = dict(self.spreads)
        for key, ratio in outcomes:
            for level in key.levels():
                spreads[level] = spreads.get(level, Spread()).observe(ratio)
        return SpreadBook(spreads, self.defaults)

    def estimate(self, key: SpreadKey) -> Estimate:
        """The spread to plan on at ``key``: its own outcomes shrunk toward the coarser
        level's estimate, down to the default (``mu`` 0, :data:`DEFAULT_SIGMA`)."""
        up = key.coarser()
        prior = self.estimate(up) if up is not None else Estimate(0.0, self.defaults[key.timed], 0)
        return self.spreads.get(key, Spread()).shrunk(prior)

    def factor(self, key: SpreadKey, confidence: float) -> float:
        """The factor planned times at ``key`` are scaled by to hold with ``confidence``."""
        e = self.estimate(key)
        return quantile_factor(e.mu, e.sigma, confidence)


@dataclass(frozen=True, slots=True)
class Buffer:
    """What a plan scales its times by: ``travel`` leg durations per profile (missing
    profiles 1.0) and ``service`` times; ``confidence`` is the probability each is meant to
    hold with (``None`` for no buffer: every factor 1.0).

    Scaled seconds are rounded to whole seconds (:meth:`seconds`), the same way for a whole
    matrix (:meth:`matrix_durations`) and for the legs of an insertion check (:meth:`legs`),
    so an option checked by insertion and the next full plan agree to the second."""

    travel: Mapping[str, float] = field(default_factory=dict)
    service: float = 1.0
    confidence: float | None = None

    def __post_init__(self) -> None:
        for name, f in [*self.travel.items(), ("service", self.service)]:
            if not (math.isfinite(f) and f > 0):
                raise ValueError(f"buffer factor {name}={f!r}: give a positive number")

    def travel_factor(self, profile: str) -> float:
        """The factor on ``profile``'s leg durations."""
        return self.travel.get(profile, 1.0)

    @property
    def is_identity(self) -> bool:
        """Whether every factor is 1.0 (times are planned as the travel provider gives them)."""
        return self.service == 1.0 and all(f == 1.0 for f in self.travel.values())

    @property
    def key(self) -> Hashable:
        """A hashable value equal for equal buffers (a cache key)."""
        return (tuple(sorted(self.travel.items())), self.service, self.confidence)

    @staticmethod
    def seconds(values: Any, factor: float) -> Any:
        """``values`` (seconds, an int or an integer array) times ``factor``, rounded to whole
        seconds (half to even); unchanged when ``factor`` is 1.0."""
        if factor == 1.0:
            return values
        if isinstance(values, np.ndarray):
            return np.rint(values * factor).astype(values.dtype)
        return round(values * factor)

    def service_seconds(self, seconds: int) -> int:
        """A stop's service time, seconds, as planned under this buffer."""
        return int(self.seconds(int(seconds), self.service))

    def matrix_durations(self, durations: np.ndarray, profile: str) -> np.ndarray:
        """A profile's matrix of leg durations (seconds) as planned under this buffer."""
        return np.asarray(self.seconds(durations, self.travel_factor(profile)))

    def legs(self, travel: LegTravel) -> LegTravel:
        """``travel``'s legs with their durations scaled as :meth:`matrix_durations` scales
        a matrix (``travel`` itself when this buffer changes nothing)."""
        if self.is_identity:
            return travel
        return _BufferedLegs(travel, self)

    def as_stats(self) -> dict[str, Any]:
        """The buffer as a plan's stats keep it (JSON): ``confidence`` (``None``: no buffer),
        ``travel`` factors per profile and the ``service`` factor."""
        return {
            "confidence": self.confidence,
            "travel": {p: round(f, 6) for p, f in sorted(self.travel.items())},
            "service": round(self.service, 6),
        }

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any] | None) -> Buffer:
        """The buffer :meth:`as_stats` wrote (no buffer for ``None`` or a plan made before
        buffers were kept)."""
        if not stats:
            return cls()
        travel = {str(p): float(f) for p, f in dict(stats.get("travel") or {}).items()}
        confidence = stats.get("confidence")
        return cls(
            travel,
            float(stats.get("service", 1.0)),
            None if confidence is None else float(confidence),
        )

    @classmethod
    def of(
        cls, book: SpreadBook, profiles: Iterable[str], confidence: float, hour: int = ANY_HOUR
    ) -> Buffer:
        """The buffer of ``profiles`` at ``confidence`` from ``book`` (per profile, at local
        ``hour`` when given); service times by the largest service factor of the profiles
        (the default's without profiles)."""
        names = list(profiles)
        travel = {p: book.factor(SpreadKey("travel", p, hour), confidence) for p in names}
        service = max(
            (book.factor(SpreadKey("service", p, hour), confidence) for p in names),
            default=quantile_factor(0.0, book.defaults["service"], confidence),
        )
        return cls(travel, service, confidence)


@dataclass(frozen=True, slots=True)
class _BufferedLegs:
    """A :class:`routing.insertion.LegTravel` whose durations are scaled by a buffer."""

    inner: LegTravel
    buffer: Buffer

    def legs(
        self, lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, profile: str
    ) -> Legs:
        """The inner legs, durations scaled (metres unchanged)."""
        raw = self.inner.legs(lats, lons, lat, lon, profile)
        return Legs(
            raw.to_distance,
            self.buffer.matrix_durations(raw.to_duration, profile),
            raw.from_distance,
            self.buffer.matrix_durations(raw.from_duration, profile),
        )


def quantile_factor(mu: float, sigma: float, confidence: float) -> float:
    """``exp(mu + z * sigma)``: the factor a log-normal ratio stays under with probability
    ``confidence`` (0.5 gives the median; below 0.5 a factor under ``exp(mu)``).

    Raises
    ------
    ValueError
        For a confidence outside (0, 1) or a negative sigma.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence!r}: give a probability between 0 and 1")
    if sigma < 0:
        raise ValueError(f"sigma {sigma!r}: a spread cannot be negative")
    return math.exp(mu + NormalDist().inv_cdf(confidence) * sigma)


def keep_probability(expected_s: float, slack_s: float, estimate: Estimate) -> float:
    """Probability that a hand-over planned ``expected_s`` seconds after the route left
    happens no later than ``slack_s`` seconds after that (the window's end minus the planned
    hand-over), the whole elapsed time scaled by one log-normal factor of ``estimate``.

    ``slack_s < 0`` (planned after the window) gives 0; ``expected_s <= 0`` (nothing left to
    go wrong) gives 1 when ``slack_s >= 0``.
    """
    if slack_s < 0:
        return 0.0
    if expected_s <= 0:
        return 1.0
    if estimate.sigma == 0:
        return 1.0 if math.exp(estimate.mu) * expected_s <= expected_s + slack_s else 0.0
    z = (math.log((expected_s + slack_s) / expected_s) - estimate.mu) / estimate.sigma
    return NormalDist().cdf(z)
