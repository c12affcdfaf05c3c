"""What a customer's choices and deliveries teach: where and when a drop works for them.

Every choice of a delivery option and every outcome (delivered, not at home, rescheduled) is
evidence about one *slot*: a place, a weekday and a part of the day. Each slot keeps Beta
counts — successes and failures — that fade with a half-life, so last month weighs more than
last year and a move to a new office is learned within weeks. The score of a slot is the
posterior mean of a Beta whose prior comes from what the customer declared (their weekly
schedule) or, for a customer who declared nothing, from customers whose choices look alike.

Every score comes with one sentence saying why, in the customer's terms ("you are usually at
Café Rosa on Saturday mornings"), and the same as a :class:`Reason` — a code and its values —
so a page can say it in its reader's language (:data:`REASON_CODES`). Pure code: the store
keeps the counts as JSON on the customer's profile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from orchestrator.concierge.schedule import WeeklySchedule, resolve
from orchestrator.errors import InvalidInput

__all__ = [
    "DAYPARTS",
    "REASON_CODES",
    "Evidence",
    "Outcome",
    "Reason",
    "SlotKey",
    "SlotScore",
    "SlotStats",
    "daypart_of",
    "neighbour_prior",
    "score",
]

DAYPARTS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"night": (0, 7), "morning": (7, 12), "afternoon": (12, 17), "evening": (17, 24)}
)
"""Parts of the day, local hours ``[start, end)``; evidence is kept per part."""

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DECLARED_PRIOR = (3.0, 1.0)  # the schedule says so: a strong but not final belief
_UNDECLARED_PRIOR = (1.0, 2.0)  # a place the schedule puts elsewhere at that time
_NEIGHBOUR_STRENGTH = 2.0  # pseudo-counts lent by look-alike customers
_USUALLY = 2.0  # decayed successes before "usually" is said


REASON_CODES: Mapping[str, str] = MappingProxyType(
    {
        "not_often_at": "place, weekday, daypart — often not there then, so it ranks lower",
        "usually_at": "place, weekday, daypart — usually there then",
        "schedule_at": "place, weekday, daypart — the schedule says there then",
        "neighbours_at": "place (a kind, e.g. home), weekday, daypart — look-alikes take it there",
        "schedule_elsewhere": "weekday, daypart — the schedule says elsewhere then",
        "one_of_places": "place, weekday, daypart — nothing learned or declared",
        "preferred_window": "start, end (local HH:MM) — inside a preferred time of day",
        "eco_grouped": "count, weekday — neighbours already served that day",
        "eco_wide": "(none) — a wide window for a passing vehicle",
    }
)
"""Every code a :class:`Reason` may carry, with its parameters (``weekday``: 0 = Monday;
``daypart``: a key of :data:`DAYPARTS`) — what a page must be able to say."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason an option is suggested, as a code of :data:`REASON_CODES` and its values
    (place names, weekday numbers, daypart keys, local ``HH:MM`` times, counts): the structure
    of one phrase of the English explanation, for a page to say in its reader's language."""

    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASON_CODES:
            raise InvalidInput("code", f"reason {self.code!r} is not one of {list(REASON_CODES)}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))


class Outcome(StrEnum):
    """What happened, and how much it says for (+) or against (−) the slot."""

    CHOSEN = "chosen"
    DELIVERED = "delivered"
    NOT_AT_HOME = "not_at_home"
    RESCHEDULED = "rescheduled"


_WEIGHTS: Mapping[Outcome, tuple[float, float]] = MappingProxyType(
    {
        Outcome.CHOSEN: (1.0, 0.0),
        Outcome.DELIVERED: (1.0, 0.0),
        Outcome.NOT_AT_HOME: (0.0, 2.0),  # a failed attempt costs a second trip: weigh it more
        Outcome.RESCHEDULED: (0.0, 0.5),
    }
)
_PASSED_OVER = (0.0, 0.5)  # offered beside the chosen place, not taken


@dataclass(frozen=True, slots=True, order=True)
class SlotKey:
    """A place, a weekday (0 = Monday) and a part of the day (a key of :data:`DAYPARTS`)."""

    place: str
    weekday: int
    daypart: str

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidInput("weekday", f"weekday {self.weekday} must be 0 (Monday) to 6")
        if self.daypart not in DAYPARTS:
            raise InvalidInput(
                "daypart", f"daypart {self.daypart!r} is not one of {list(DAYPARTS)}"
            )

    @property
    def when(self) -> str:
        """ "Saturday mornings"."""
        return f"{_DAY_NAMES[self.weekday]} {self.daypart}s"


def daypart_of(local: time) -> str:
    """The part of the day a local wall-clock time falls in."""
    return next(name for name, (lo, hi) in DAYPARTS.items() if lo <= local.hour < hi)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Decayed successes and failures of one slot, as of ``as_of``."""

    successes: float = 0.0
    failures: float = 0.0
    as_of: datetime | None = None

    def decayed(self, at: datetime, half_life: timedelta) -> Evidence:
        """The counts faded to instant ``at``."""
        if self.as_of is None or at <= self.as_of:
            return replace(self, as_of=self.as_of or at)
        factor = 0.5 ** ((at - self.as_of) / half_life)
        return Evidence(self.successes * factor, self.failures * factor, at)


@dataclass(frozen=True, slots=True)
class SlotScore:
    """How well a slot suits the customer (0 to 1) and why, in one sentence and as the
    :class:`Reason` it says."""

    key: SlotKey
    score: float
    explanation: str
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotStats:
    """A customer's evidence per slot, with the half-life it fades by."""

    evidence: Mapping[SlotKey, Evidence] = field(default_factory=dict)
    half_life: timedelta = timedelta(days=56)

    def __post_init__(self) -> None:
        if self.half_life <= timedelta(0):
            raise InvalidInput("half_life", "the half-life must be positive, e.g. 56 days")
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))

    def record(
        self, key: SlotKey, outcome: Outcome, at: datetime, *, passed_over: Sequence[str] = ()
    ) -> SlotStats:
        """The stats with one more observation of ``outcome`` at ``key`` (instant ``at``).

        ``passed_over`` names the other places offered for the same slot when the customer
        chose ``key.place``: a choice says "here rather than there", so each counts half a
        failure.
        """
        updates = [(key, _WEIGHTS[outcome])]
        if outcome is Outcome.CHOSEN:
            updates += [
                (SlotKey(p, key.weekday, key.daypart), _PASSED_OVER)
                for p in dict.fromkeys(passed_over)
                if p != key.place
            ]
        evidence = dict(self.evidence)
        for k, (plus, minus) in updates:
            old = evidence.get(k, Evidence()).decayed(at, self.half_life)
            evidence[k] = Evidence(old.successes + plus, old.failures + minus, at)
        return SlotStats(evidence, self.half_life)

    def at(self, key: SlotKey, when: datetime) -> Evidence:
        """The evidence of ``key`` faded to ``when``."""
        return self.evidence.get(key, Evidence()).decayed(when, self.half_life)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form (for the store and the customer's data export)."""
        return {
            "half_life_days": self.half_life / timedelta(days=1),
            "slots": [
                {
                    "place": k.place,
                    "weekday": k.weekday,
                    "daypart": k.daypart,
                    "successes": round(e.successes, 6),
                    "failures": round(e.failures, 6),
                    "as_of": e.as_of.isoformat() if e.as_of else None,
                }
                for k, e in sorted(self.evidence.items())
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SlotStats:
        """Inverse of :meth:`to_json`; a malformed document is refused, never half-read."""
        try:
            evidence = {
                SlotKey(str(s["place"]), int(s["weekday"]), str(s["daypart"])): Evidence(
                    float(s["successes"]),
                    float(s["failures"]),
                    datetime.fromisoformat(s["as_of"]) if s.get("as_of") else None,
                )
                for s in data.get("slots", [])
            }
            half_life = timedelta(days=float(data.get("half_life_days", 56)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("slots", f"malformed preference statistics: {exc}") from exc
        return cls(evidence, half_life)


def neighbour_prior(
    mine: SlotStats,
    others: Sequence[SlotStats],
    *,
    at: datetime,
    kinds: Mapping[str, str] | None = None,
    k: int = 5,
) -> dict[tuple[str, int, str], float]:
    """Success rates by (place kind, weekday, daypart) among the ``k`` most alike customers.

    Customers are compared by the cosine of their success vectors over place kinds (names
    differ between customers; kinds — home, office, cafe, locker — do not). A customer with no
    evidence is alike to everyone, so the prior is the crowd's.

    Parameters
    ----------
    kinds
        Place name → kind, for every customer's places (names not in it count as themselves).
    """
    kinds = kinds or {}

    def vector(stats: SlotStats) -> dict[tuple[str, int, str], tuple[float, float]]:
        out: dict[tuple[str, int, str], tuple[float, float]] = {}
        for key in stats.evidence:
            e = stats.at(key, at)
            kk = (kinds.get(key.place, key.place), key.weekday, key.daypart)
            s, f = out.get(kk, (0.0, 0.0))
            out[kk] = (s + e.successes, f + e.failures)
        return out

    me = vector(mine)
    scored = []
    for other in others:
        v = vector(other)
        dot = sum(me[x][0] * v[x][0] for x in me.keys() & v.keys())
        norm = math.sqrt(sum(s * s for s, _ in me.values())) * math.sqrt(
            sum(s * s for s, _ in v.values())
        )
        scored.append((dot / norm if norm else 0.0, v))
    scored.sort(key=lambda item: -item[0])
    totals: dict[tuple[str, int, str], tuple[float, float]] = {}
    for _, v in scored[:k]:
        for x, (s, f) in v.items():
            ts, tf = totals.get(x, (0.0, 0.0))
            totals[x] = (ts + s, tf + f)
    return {x: s / (s + f) for x, (s, f) in totals.items() if s + f > 0}


def score(
    stats: SlotStats,
    key: SlotKey,
    *,
    at: datetime,
    schedule: WeeklySchedule | None = None,
    day: date | None = None,
    neighbours: Mapping[tuple[str, int, str], float] | None = None,
    kind: str | None = None,
) -> SlotScore:
    """The posterior mean success of ``key`` and the sentence that explains it.

    Parameters
    ----------
    stats
        The customer's evidence.
    key
        The slot to score.
    at
        Now (evidence fades to this instant).
    schedule, day
        The declared schedule and a date falling on ``key.weekday``: the prior is strong where
        the schedule puts the customer at ``key.place`` in the middle of the daypart.
    neighbours, kind
        Look-alike success rates (:func:`neighbour_prior`) and the place's kind, used when the
        customer declared nothing.
    """
    evidence = stats.at(key, at)
    source, (a, b) = "none", (1.0, 1.0)
    if schedule is not None and day is not None:
        lo, hi = DAYPARTS[key.daypart]
        middle = datetime.combine(day, time((lo + hi) // 2), schedule.zone)
        declared = resolve(schedule, middle) == key.place
        source, (a, b) = ("declared", _DECLARED_PRIOR) if declared else ("other", _UNDECLARED_PRIOR)
    elif neighbours:
        rate = neighbours.get((kind or key.place, key.weekday, key.daypart))
        if rate is not None:
            source = "neighbours"
            a, b = _NEIGHBOUR_STRENGTH * rate + 0.5, _NEIGHBOUR_STRENGTH * (1 - rate) + 0.5
    mean = (a + evidence.successes) / (a + b + evidence.successes + evidence.failures)
    sentence, reason = _explain(key, evidence, source, kind)
    return SlotScore(key, mean, sentence, (reason,))


def _explain(key: SlotKey, e: Evidence, source: str, kind: str | None) -> tuple[str, Reason]:
    """The English sentence and the :class:`Reason` it says."""
    when: dict[str, str | int] = {"weekday": key.weekday, "daypart": key.daypart}
    at: dict[str, str | int] = {"place": key.place, **when}
    if e.failures >= 2.0 and e.failures > e.successes:
        return (
            f"you were often not at {key.place} on {key.when}, so it ranks lower",
            Reason("not_often_at", at),
        )
    if e.successes >= _USUALLY and e.successes >= 2 * e.failures:
        return f"you are usually at {key.place} on {key.when}", Reason("usually_at", at)
    if source == "declared":
        return (
            f"your schedule says you are at {key.place} on {key.when}",
            Reason("schedule_at", at),
        )
    if source == "neighbours":
        return (
            f"customers with choices like yours often take deliveries at their "
            f"{kind or key.place} on {key.when}",
            Reason("neighbours_at", {"place": kind or key.place, **when}),
        )
    if source == "other":
        return f"your schedule puts you elsewhere on {key.when}", Reason("schedule_elsewhere", when)
    return f"{key.place} on {key.when} is one of your places", Reason("one_of_places", at)
