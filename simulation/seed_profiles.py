"""Give the demo's customers delivery profiles: where they are by weekday, the times they
prefer, and what their past choices and deliveries taught — through the concierge's services.

The delivery options (``GET /orders/{id}/options``) and "find me at the café" read a
customer's profile (:mod:`orchestrator.concierge.profiles`). :func:`seed_profiles` stores one,
with :func:`~orchestrator.concierge.profiles.put_profile` (what ``PUT
/customers/{id}/profile`` calls), for every customer who has a café and for about
:data:`P_PROFILE` of the others (about 45 % in all):

* schedule: at the **office** Monday to Friday 09:00-17:00 (when they have one), at the
  **café** on Saturdays 10:00-14:00 (when they have one); at home otherwise;
* preferred windows: weekday evenings 17:00-21:00, or weekend mornings 09:00-12:00;
* a third accept a sidewalk robot, a quarter prefer greener drops and wait up to 2 days for
  one, some hand-off instructions; customers with only a home mostly speak Finnish or
  Swedish (``language``), while those with a second place — whom the tour's options and
  "find me at the café" walk through — keep the browser's language (``?lang=fi`` shows
  their pages in Finnish);
* learned slots (:func:`~orchestrator.concierge.profiles.record_outcome`), from
  :data:`HISTORY_WEEKS` weeks before the demo's day: deliveries at home on weekday evenings,
  a missed morning delivery at home for office workers, the café chosen over home on
  Saturday mornings.

Idempotent: a customer whose profile has a schedule or preferred windows is left as it is.
Same seed and day, same profiles. Times are local wall-clock times in Helsinki.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlmodel import Session, col, select

from orchestrator.concierge.learning import Outcome
from orchestrator.concierge.profiles import put_profile, record_outcome
from orchestrator.models import CustomerProfile

__all__ = ["HISTORY_WEEKS", "PROFILE_TIMEZONE", "P_PROFILE", "seed_profiles"]

P_PROFILE = 0.35
"""Share of the customers without a café who store a profile (all with a café do)."""

HISTORY_WEEKS = 8
"""Weeks before the demo's day the learned observations come from."""

PROFILE_TIMEZONE = "Europe/Helsinki"
"""The customers' time zone."""

_STREAM = 0x9A0F17E5  # the profiles' draws have their own stream
_WORKDAYS = ["mon", "tue", "wed", "thu", "fri"]
_LANGUAGES = (None, "fi", "sv")  # of customers at home only
_LANGUAGE_SHARE = (0.4, 0.5, 0.1)
_HANDOFF = (
    "Ring twice; the bell is faint.",
    "Leave it with the neighbour at B 12 if I am out.",
    "The code of the front door is in the order notes.",
)
_SATURDAY = 5


def seed_profiles(
    session: Session,
    customers: Sequence[int],
    places: Sequence[Collection[str]],
    *,
    day: date,
    seed: int,
) -> int:
    """Store the profiles of the demo's customers that have none.

    Parameters
    ----------
    session
        The store (each profile is committed on its own).
    customers
        The demo's customer ids.
    places
        Each customer's place names (``"home"``, ``"office"``, ``"café"``), same order.
    day
        The demo's service day: observations come from the weeks before it.
    seed
        Seed of the draws.

    Returns
    -------
    int
        Customers of ``customers`` with a stored profile (new or already there).
    """
    rng = np.random.default_rng((seed, len(customers), _STREAM))
    zone = ZoneInfo(PROFILE_TIMEZONE)
    # Every draw is made for every customer, stored or not: same seed, same profiles.
    wants = rng.random(len(customers)) < P_PROFILE
    evening = rng.random(len(customers)) < 0.7
    robot = rng.random(len(customers)) < 0.3
    eco = rng.random(len(customers)) < 0.25
    language = rng.choice(len(_LANGUAGES), size=len(customers), p=_LANGUAGE_SHARE)
    handoff = rng.integers(-len(_HANDOFF), len(_HANDOFF), size=len(customers))  # < 0: none
    weeks = rng.integers(1, HISTORY_WEEKS, size=(len(customers), 3), endpoint=True)
    # Who stored a profile already: one query, not one per customer.
    stored = {
        cid
        for cid, schedule, windows in session.exec(
            select(
                CustomerProfile.customer_id,
                CustomerProfile.schedule,
                CustomerProfile.preferred_windows,
            ).where(col(CustomerProfile.customer_id).in_(list(customers)))
        )
        if schedule or windows
    }
    profiled = 0
    for k, (customer_id, names) in enumerate(zip(customers, places, strict=True)):
        if not (wants[k] or "café" in names):
            continue
        profiled += 1
        if customer_id in stored:
            continue
        schedule: list[dict[str, Any]] = []
        if "office" in names:
            schedule.append(
                {"place": "office", "weekdays": _WORKDAYS, "start": "09:00", "end": "17:00"}
            )
        if "café" in names:
            schedule.append(
                {"place": "café", "weekdays": ["sat"], "start": "10:00", "end": "14:00"}
            )
        window = (
            {"weekdays": _WORKDAYS, "start": "17:00", "end": "21:00"}
            if evening[k]
            else {"weekdays": ["sat", "sun"], "start": "09:00", "end": "12:00"}
        )
        # What was learned first, then the profile: put_profile keeps the statistics and
        # commits both at once.
        for when, place, outcome, passed_over in _observations(day, names, weeks[k]):
            at = _local(when.date(), when.time(), zone)
            record_outcome(session, customer_id, place, at, outcome, at=at, passed_over=passed_over)
        put_profile(
            session,
            customer_id,
            {
                "timezone": PROFILE_TIMEZONE,
                "schedule": schedule,
                "preferred_windows": [window],
                "accepts_robot": bool(robot[k]),
                "prefers_eco": bool(eco[k]),
                "eco_max_wait_days": 2 if eco[k] else 0,
                "language": _LANGUAGES[int(language[k])] if len(names) == 1 else None,
                "handoff_instructions": _HANDOFF[h] if (h := int(handoff[k])) >= 0 else None,
            },
            now=_local(day, time(6, 0), zone),
        )
    return profiled


# -- implementation ---------------------------------------------------------------------------


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _observations(
    day: date, names: Collection[str], weeks: Sequence[int]
) -> list[tuple[datetime, str, Outcome, tuple[str, ...]]]:
    """What the customer's past taught, ``weeks`` (three counts of weeks ago) back from
    ``day``: a Tuesday-evening delivery at home, an office worker's missed Thursday morning
    at home, a Saturday-morning café chosen over home; each as (local time, place, outcome,
    the places passed over)."""
    monday = day - timedelta(days=day.weekday())
    out: list[tuple[datetime, str, Outcome, tuple[str, ...]]] = []
    tuesday = monday - timedelta(weeks=int(weeks[0])) + timedelta(days=1)
    out.append((datetime.combine(tuesday, time(18, 30)), "home", Outcome.DELIVERED, ()))
    if "office" in names:
        thursday = monday - timedelta(weeks=int(weeks[1])) + timedelta(days=3)
        out.append((datetime.combine(thursday, time(10, 0)), "home", Outcome.NOT_AT_HOME, ()))
    if "café" in names:
        saturday = monday - timedelta(weeks=int(weeks[2])) + timedelta(days=_SATURDAY)
        out.append((datetime.combine(saturday, time(10, 30)), "café", Outcome.CHOSEN, ("home",)))
    return sorted(out, key=lambda o: o[0])
