"""The README's curl examples, run as a reader would: each ```bash block of README.md holds one
``curl`` command, run with the real ``curl`` binary (through bash, which expands ``$KEY`` and
``$DAY`` as the reader's shell would) against the app served on a loopback port, on the store
the README's story assumes — ``lastmile demo`` (depot 1, plan 1, its day) — and must answer
2xx with JSON.

``localhost:8000`` in a command becomes the test server's address; ``KEY`` is a planner's key
made as the README says, ``DAY`` the day the demo printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from api.app import create_app
from api.cli.demo import GRAPH_FILE, run_demo
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key
from orchestrator.models import Depot, Plan
from orchestrator.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
"""A ```bash block of the README; each holds one curl command."""
READERS_SERVER = "localhost:8000"
"""Where the README's reader serves the API (``lastmile serve --port 8000``)."""
CURL_TIMEOUT_S = 60.0  # the longest example solves for 1 s; bounded so that a hang fails
DEMO_ORDERS = 20  # a small day: the examples read it, they do not measure it
DEMO_TIME_LIMIT_S = 1.0

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")


def examples() -> list[str]:
    """The curl commands of README.md, one per ```bash block, in order."""
    return [block.strip() for block in FENCE.findall(README.read_text(encoding="utf-8"))]


@dataclass(frozen=True)
class Story:
    """The demo store served as the README's reader has it."""

    url: str
    key: str
    day: date
    plan_id: int


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """``lastmile demo`` on a small day (tomorrow in Helsinki, so that options have a day
    ahead), served on a loopback port, with a planner's key."""
    folder = tmp_path_factory.mktemp("readme")
    url = f"sqlite:///{folder / 'demo.db'}"
    day = datetime.now(ZoneInfo("Europe/Helsinki")).date() + timedelta(days=1)
    said: list[str] = []
    code = run_demo(
        orders=DEMO_ORDERS, time_limit=DEMO_TIME_LIMIT_S, out_dir=folder, database_url=url,
        day=day, say=lambda text="", end="\n": said.append(text),
    )  # fmt: skip
    assert code == 0, "\n".join(said)
    # The README's story: the demo says it made depot 1 and plan 2 on that day (plan 1 is the
    # delivered past day's, whose lines can be returned).
    made = re.search(
        rf"\(depot 1 DEMO-SYN-S0-N{DEMO_ORDERS}, plan (\d+), day {day}\)", "\n".join(said)
    )
    assert made is not None, "\n".join(said)
    plan_id = int(made.group(1))
    assert plan_id == 2, "the README says PLAN=2: change it with the demo"
    app = create_app(Settings(database_url=url, road_graph=folder / GRAPH_FILE))
    with serve_in_thread(app) as base:
        with Session(app.state.engine) as session:
            assert session.get(Depot, 1) is not None and session.get(Plan, plan_id) is not None
            key = create_api_key(session, "planner")
        yield Story(base, key, day, plan_id)


def test_the_readme_shows_its_curl_examples_one_per_bash_block() -> None:
    found = examples()
    assert len(found) >= 8, found
    for command in found:
        assert command.startswith("curl "), (
            f"a ```bash block of README.md is not one curl: {command}"
        )
        assert READERS_SERVER in command, command
    # Every curl command of the README is in such a block, so that this test runs it.
    text = README.read_text(encoding="utf-8")
    outside = FENCE.sub("", text)
    assert not re.search(r"^\s*curl ", outside, re.MULTILINE), "a curl example outside ```bash"


@pytest.mark.parametrize("command", examples())
def test_each_curl_example_answers_2xx_with_json(story: Story, command: str) -> None:
    served = command.replace(READERS_SERVER, story.url.removeprefix("http://"))
    run = subprocess.run(
        ["bash", "-c", served + " -sS -w '\\n%{http_code} %{content_type}'"],
        env={**os.environ, "KEY": story.key, "DAY": story.day.isoformat(),
             "PLAN": str(story.plan_id)},
        capture_output=True, text=True, timeout=CURL_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    body, _, status = run.stdout.rpartition("\n")
    code, _, content_type = status.partition(" ")
    assert 200 <= int(code) < 300, f"{command}\n-> {code}: {body}"
    assert "json" in content_type, content_type
    assert json.loads(body) is not None
