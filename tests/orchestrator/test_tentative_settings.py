"""The tentative day is timed at the promise confidence of the caller's settings (issue #17):
given, they win over ``LASTMILE_PROMISE_CONFIDENCE``; not given, the environment's hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from orchestrator.planning.tentative import DayCache, tentative_day
from orchestrator.settings import Settings
from tests.orchestrator.conftest import DAY, TRAVEL, World

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_the_callers_settings_give_the_buffer(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASTMILE_PROMISE_CONFIDENCE", "0.9")
    cache = DayCache()

    def buffer_of(settings: Settings | None) -> tuple[float | None, bool]:
        day = tentative_day(
            session, world.depot, DAY, now=NOW, travel=TRAVEL, cache=cache, settings=settings
        )
        return day.plan.buffer.confidence, day.plan.buffer.is_identity

    assert buffer_of(Settings(promise_confidence=0)) == (None, True)  # no floor, bare times
    assert buffer_of(Settings(promise_confidence=0.75)) == (0.75, False)
    assert buffer_of(None) == (0.9, False)  # the environment's, as before
