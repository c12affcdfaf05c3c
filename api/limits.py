"""The request body limit: a body larger than its limit is answered 413 before any work.

:class:`BodyLimit` is ASGI middleware in front of the app. A request that declares a
``Content-Length`` over its limit is answered from its head; a body without one
(``Transfer-Encoding: chunked``) is counted as it arrives and answered 413 once it passes
the limit. Only a body within its limit reaches the app, which then parses it (JSON,
validation): nothing larger is ever decoded or held.

The limits are settings (:mod:`orchestrator.settings`, where every limit of the service is
listed): ``LASTMILE_MAX_BODY_BYTES`` (1 MiB) for every request, and
``LASTMILE_MAX_VROOM_BODY_BYTES`` (16 MiB) for ``POST /solve/vroom``, whose problems may
carry whole travel matrices. The 413's body names the limit and how to raise it::

    {"detail": "the request body is larger than 1048576 bytes, the limit of POST /orders —
     send less (split it into several requests), or raise LASTMILE_MAX_BODY_BYTES on the
     server", "limit_bytes": 1048576, "setting": "LASTMILE_MAX_BODY_BYTES"}

The connection is closed after a 413 (``Connection: close``). A body up to
:data:`DRAIN_FACTOR` times its limit is first read to its end and dropped, never decoded:
most clients send their whole body before they read the answer, and would otherwise see the
connection reset instead of the 413; a larger body, or one whose client waits for
``100 Continue``, is answered at once.

:func:`install_body_limit` puts the middleware in front of an app and lists the 413, with
its limit, among the answers of every operation that takes a body in the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.settings import Settings, setting_name

__all__ = [
    "DRAIN_FACTOR",
    "LARGER_BODIES",
    "BodyLimit",
    "BodyTooLarge",
    "Limit",
    "body_limit",
    "install_body_limit",
]

LARGER_BODIES: dict[tuple[str, str], str] = {("POST", "/solve/vroom"): "max_vroom_body_bytes"}
"""Requests (method, path) whose body may be larger than the default, and the setting that
bounds it; every other request is bounded by ``max_body_bytes``."""


DRAIN_FACTOR = 4
"""A body over its limit but within this many times it is read to its end (and dropped)
before the 413 is sent, so that its client reads the answer (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """The body limit of one request: ``size`` bytes, set by the setting ``field``."""

    size: int
    field: str

    @property
    def setting(self) -> str:
        """The environment variable that raises it (``LASTMILE_MAX_BODY_BYTES``)."""
        return setting_name(self.field)


class BodyTooLarge(BaseModel):
    """The body of a 413: what the limit is and which setting raises it."""

    detail: str = Field(description="One sentence: the limit, and what to do instead.")
    limit_bytes: int = Field(description="The largest body this operation takes, bytes.")
    setting: str = Field(description="The server's setting that raises the limit.")


def body_limit(settings: Settings, method: str, path: str) -> Limit:
    """The body limit of a ``method`` request to ``path`` under ``settings``."""
    field = LARGER_BODIES.get((method.upper(), path.rstrip("/") or "/"), "max_body_bytes")
    size = getattr(settings, field)
    assert isinstance(size, int)
    return Limit(size, field)


class BodyLimit:
    """ASGI middleware answering 413 to a request body over its limit (module docstring).

    Parameters
    ----------
    app
        The application behind it.
    settings
        Where the limits come from (``max_body_bytes``, ``max_vroom_body_bytes``).
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared = _content_length(scope)
        drain = limit.size * DRAIN_FACTOR
        if declared is not None and declared > limit.size:
            if declared <= drain and not _expects_continue(scope):
                await _drain(receive, declared)
            await _too_large(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit.size:
                if message.get("more_body", False):
                    await _drain(receive, drain - size)
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def install_body_limit(app: FastAPI, settings: Settings) -> None:
    """Put :class:`BodyLimit` in front of ``app`` and document its 413 in ``app``'s OpenAPI
    document (on every operation with a request body, naming that operation's limit)."""
    app.add_middleware(BodyLimit, settings=settings)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(BodyTooLarge.__name__, BodyTooLarge.model_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if isinstance(operation, dict) and "requestBody" in operation:
                    limit = body_limit(settings, method, path)
                    operation.setdefault("responses", {}).setdefault("413", _documented(limit))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _documented(limit: Limit) -> dict[str, Any]:
    """The OpenAPI response of a 413 under ``limit``."""
    return {
        "description": f"The body is larger than {limit.size} bytes ({limit.setting}).",
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{BodyTooLarge.__name__}"},
                "example": _body(limit, "POST /orders"),
            }
        },
    }


def _body(limit: Limit, what: str) -> dict[str, Any]:
    """The body of a 413 of the request ``what`` (``"POST /orders"``)."""
    return {
        "detail": f"the request body is larger than {limit.size} bytes, the limit of {what} — "
        f"send less (split it into several requests), or raise {limit.setting} on the server",
        "limit_bytes": limit.size,
        "setting": limit.setting,
    }


def _content_length(scope: Scope) -> int | None:
    """The declared body size, or ``None`` when none (or no valid one) is declared."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _expects_continue(scope: Scope) -> bool:
    """Whether the client waits for ``100 Continue`` before it sends its body."""
    return any(
        name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"]
    )


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of the body, at most ``budget`` bytes of it."""
    while budget > 0:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the whole body read, then waits for the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: Limit) -> None:
    what = f"{scope['method']} {scope['path']}"
    response = JSONResponse(
        status_code=413, content=_body(limit, what), headers={"Connection": "close"}
    )
    await response(scope, receive, send)
