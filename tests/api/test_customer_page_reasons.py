"""Why an option is suggested, in the customer page's language: the concierge gives each
option's English ``explanation`` (the API's, unchanged) and the same as structured reasons
(:data:`orchestrator.concierge.learning.REASON_CODES`), which the page says from its
catalogues — a Finnish or Swedish page shows no English phrase of it, an English page reads
as the API's sentence."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.pages.rendering import environment
from orchestrator.concierge.learning import (
    REASON_CODES,
    Evidence,
    Reason,
    SlotKey,
    SlotStats,
    score,
)
from orchestrator.concierge.profiles import put_profile
from orchestrator.concierge.schedule import WeeklySchedule
from orchestrator.errors import InvalidInput
from tests.api.conftest import Keys, bearer
from tests.api.test_customer_page import Day, day, token
from tests.api.test_returns import shop

__all__ = ["day", "shop"]  # the fixtures, re-used

ENGLISH = (
    "you were often not",
    "you are usually",
    "your schedule",
    "customers with choices",
    "is one of your places",
    "inside the time you prefer",
    "neighbours are already served",
    "wide window",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "mornings",
    "afternoons",
    "evenings",
    "nights",
)
"""Words of every English phrase the concierge can say (orchestrator/concierge/learning.py
``_explain``, options.py ``_option`` and ``_eco_consolidation``)."""


def _whys(page: str) -> list[str]:
    """The text of each option's "why" line, in order."""
    found = re.findall(r'<p class="why"([^>]*)>(.*?)</p>', page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for _, text in found]


@pytest.fixture
def eco_and_preferred(session: Session, keys: Keys, day: Day) -> Day:
    """Aino prefers the whole working day and accepts an eco wait of two days, so options
    carry the preferred-window and eco reasons beside the slot's."""
    put_profile(
        session,
        keys.customer_id,
        {
            "preferred_windows": [{"start": "06:00", "end": "23:00"}],
            "eco_max_wait_days": 2,
            "prefers_eco": True,
        },
    )
    return day


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", ("toivomasi ajan sisällä", "eko: ")), ("sv", ("inom den tid du föredrar", "eko: "))],
)
def test_a_finnish_or_swedish_page_says_why_in_its_language(
    app: FastAPI,
    client: TestClient,
    keys: Keys,
    eco_and_preferred: Day,
    language: str,
    expected: tuple[str, ...],
) -> None:
    order = eco_and_preferred.aino[0]
    answer = client.get(f"/orders/{order}/options?days=3&k=5", headers=bearer(keys.customer))
    assert answer.status_code == 200, answer.text
    explanations = [o["explanation"] for o in answer.json()["options"]]
    assert explanations
    assert "reasons" not in answer.json()["options"][0]  # the API's answer is as it was
    assert any("inside the time you prefer" in e for e in explanations)
    assert any("; eco: " in e for e in explanations)

    english = client.get(f"/t/{token(app, order)}?lang=en")
    assert _whys(english.text) == explanations  # an English page reads as the API

    page = client.get(f"/t/{token(app, order)}?lang={language}")
    assert page.status_code == 200 and page.headers["content-language"] == language
    whys = _whys(page.text)
    assert len(whys) == len(explanations)
    assert 'class="why" lang="en"' not in page.text
    for why, explanation in zip(whys, explanations, strict=True):
        assert why.count("; ") == explanation.count("; "), (why, explanation)  # phrase by phrase
        for phrase in explanation.split("; "):
            assert phrase not in why
        for word in ENGLISH:
            assert word not in why, (word, why)
    text = " ".join(whys)
    for said in expected:
        assert said in text, (said, text)


SAMPLES = {
    "not_often_at": {"place": "home", "weekday": 0, "daypart": "morning"},
    "usually_at": {"place": "Café <Rosa>", "weekday": 1, "daypart": "afternoon"},
    "schedule_at": {"place": "office", "weekday": 2, "daypart": "evening"},
    "neighbours_at": {"place": "locker", "weekday": 3, "daypart": "night"},
    "schedule_elsewhere": {"weekday": 5, "daypart": "evening"},
    "one_of_places": {"place": "home", "weekday": 6, "daypart": "morning"},
    "preferred_window": {"start": "17:00", "end": "18:00"},
    "eco_grouped": {"count": 3, "weekday": 4},
    "eco_wide": {},
}
"""One reason of every code, with values as the concierge gives them."""


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_reason_is_said_in_the_pages_language(language: str) -> None:
    assert set(SAMPLES) == set(REASON_CODES)
    say = environment(language).get_template("customer_reasons.html").module
    for code, params in SAMPLES.items():
        text = str(say.reason_text(Reason(code, params), {"home": "home"}))  # type: ignore[attr-defined]  # a macro
        assert text, code
        for word in ENGLISH:
            assert word not in text, (code, word, text)
        assert "<Rosa>" not in text  # a place's name is escaped
        for key in ("start", "end", "count"):
            if key in params:
                assert str(params[key]) in text, (code, text)
    home = {"fi": "koti", "sv": "hem"}[language]
    assert home in str(say.reason_text(Reason("usually_at", SAMPLES["not_often_at"]), {}))  # type: ignore[attr-defined]  # a macro


def test_each_sentence_of_the_slot_comes_with_its_reason() -> None:
    at = datetime(2026, 12, 4, 12, tzinfo=UTC)
    friday = date(2026, 12, 4)
    key = SlotKey("home", 4, "evening")
    often = SlotStats({key: Evidence(0.0, 3.0, at)})
    usual = SlotStats({key: Evidence(3.0, 0.0, at)})
    schedule = WeeklySchedule("home")
    cases = [
        (score(often, key, at=at), "not_often_at"),
        (score(usual, key, at=at), "usually_at"),
        (score(SlotStats(), key, at=at, schedule=schedule, day=friday), "schedule_at"),
        (score(SlotStats(), SlotKey("cafe", 4, "evening"), at=at, schedule=schedule, day=friday),
         "schedule_elsewhere"),
        (score(SlotStats(), key, at=at, neighbours={("home", 4, "evening"): 0.8}, kind="home"),
         "neighbours_at"),
        (score(SlotStats(), key, at=at), "one_of_places"),
    ]  # fmt: skip
    for judged, code in cases:
        (reason,) = judged.reasons
        assert reason.code == code, (judged.explanation, reason)
        assert reason.params["weekday"] == 4 and reason.params["daypart"] == "evening"
    assert (
        score(SlotStats(), key, at=at).explanation
        == "home on Friday evenings is one of your places"
    )


def test_a_reason_of_unknown_code_is_refused_and_its_values_are_frozen() -> None:
    with pytest.raises(InvalidInput):
        Reason("made_up")
    reason = Reason("preferred_window", {"start": "17:00", "end": "18:00"})
    with pytest.raises(TypeError):
        reason.params["start"] = "09:00"  # type: ignore[index]  # read-only on purpose
    assert hash(reason) == hash(Reason("preferred_window", {"end": "18:00", "start": "17:00"}))
