"""The workers of ``lastmile serve --workers N`` even out their kept-alive connections: one
holding two or more than the lightest answers with ``Connection: close`` so that its client
reconnects and the kernel places it afresh (:class:`api.runtime.serve.Balance`)."""

from __future__ import annotations

import asyncio
from typing import Any

from api.runtime.serve import Balance


async def _answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _headers(balance: Balance, scope_type: str = "http") -> list[tuple[bytes, bytes]] | None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    asyncio.run(balance({"type": scope_type}, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    return starts[0]["headers"] if starts else None


def test_a_balanced_worker_keeps_the_connection() -> None:
    held = [0, 9]
    balance = Balance(_answer, held, 0, lambda: 10, pause_s=0.0)
    assert _headers(balance) == [(b"x", b"1")]
    assert held == [10, 9]  # it published what it holds


def test_a_heavy_worker_asks_one_client_to_reconnect_then_waits() -> None:
    held = [0, 8]
    balance = Balance(_answer, held, 0, lambda: 10, pause_s=60.0)
    assert _headers(balance) == [(b"x", b"1"), (b"connection", b"close")]
    # The next answers keep their connections until the pause is over: the shed one has to
    # land somewhere before this worker judges again.
    assert _headers(balance) == [(b"x", b"1")]


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    balance = Balance(app, [0, 0], 0, lambda: 5)
    assert _headers(balance, "lifespan") is None
    assert seen == ["lifespan"]
