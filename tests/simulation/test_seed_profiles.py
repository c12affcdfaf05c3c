"""Tests of simulation.seed_profiles: the demo's customers get weekly schedules, preferred
windows and learned slots, through the concierge's services.

The store fixtures come from ``tests/orchestrator/conftest.py``: every test that takes
``session`` runs on a SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from orchestrator.concierge.profiles import get_profile, preferences
from orchestrator.concierge.schedule import resolve
from orchestrator.intake.catalog import customer_places
from orchestrator.models import CustomerProfile
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.seed_profiles import seed_profiles
from simulation.seed_store import seed_store
from tests.orchestrator import conftest as store

database_url = store.database_url
migrated_engine = store.migrated_engine
engine = store.engine
session = store.session

DAY = date(2025, 3, 3)  # a Monday
N = 30
ZONE = ZoneInfo("Europe/Helsinki")


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """A small synthetic city (6x6 blocks)."""
    return generate_city(0, blocks=6)


def seed(session: Session, city: SyntheticCity) -> tuple[tuple[int, ...], list[set[str]], int]:
    """The day alone, then the profiles: the customers, their place names, profiles stored."""
    summary = seed_store(
        session, city, city_name="synthetic", day=DAY, seed=3, n_orders=N, world=False
    )
    names = [{p.name for p in customer_places(session, c)} for c in summary.customer_ids]
    return (
        summary.customer_ids,
        names,
        seed_profiles(session, summary.customer_ids, names, day=DAY, seed=3),
    )


def at(day: date, hour: int) -> datetime:
    """``hour`` o'clock on ``day`` in Helsinki."""
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def test_a_cafe_lover_is_at_the_cafe_on_saturdays_and_at_work_on_weekdays(
    session: Session, city: SyntheticCity
) -> None:
    customers, names, _ = seed(session, city)
    saturday = DAY + timedelta(days=5)
    cafe_lovers = [c for c, n in zip(customers, names, strict=True) if "café" in n]
    assert cafe_lovers
    for customer_id, mine in zip(customers, names, strict=True):
        if "café" not in mine:
            continue
        schedule = preferences(session, customer_id).schedule
        assert resolve(schedule, at(saturday, 11)) == "café"
        assert resolve(schedule, at(saturday, 16)) == "home"
        assert resolve(schedule, at(DAY, 10)) == ("office" if "office" in mine else "home")
        # What they chose before: the café over home on Saturday mornings.
        learned = {
            (s.place, s.weekday, s.daypart) for s in get_profile(session, customer_id).learned
        }
        assert ("café", "sat", "morning") in learned


def test_many_customers_have_a_profile_with_windows_and_learned_slots(
    session: Session, city: SyntheticCity
) -> None:
    customers, names, profiled = seed(session, city)
    stored = {p.customer_id for p in session.exec(select(CustomerProfile))}
    assert profiled == len(stored) and N // 3 <= profiled < N
    for customer_id, mine in zip(customers, names, strict=True):
        if customer_id not in stored:
            assert "café" not in mine  # everyone with a café has a profile
            continue
        profile = get_profile(session, customer_id)
        assert profile.preferred_windows and profile.learned
        # The tour's customers (a second place) read their pages in the browser's language.
        assert profile.language in ((None,) if len(mine) > 1 else (None, "fi", "sv"))
        # Every learned slot is at one of their own places, before the demo's day.
        for slot in profile.learned:
            assert slot.place in mine
            assert slot.as_of is not None and slot.as_of < at(DAY, 0)


def test_seeding_profiles_twice_changes_nothing(session: Session, city: SyntheticCity) -> None:
    customers, names, first = seed(session, city)
    before = {p.customer_id: (p.stats, p.schedule, p.updated_at) for p in
              session.exec(select(CustomerProfile))}  # fmt: skip
    assert seed_profiles(session, customers, names, day=DAY, seed=3) == first
    session.expire_all()
    after = {p.customer_id: (p.stats, p.schedule, p.updated_at) for p in
             session.exec(select(CustomerProfile))}  # fmt: skip
    assert after == before
