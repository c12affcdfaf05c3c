"""The one place where errors become HTTP answers.

Domain code raises domain errors; this module maps them, once, for the whole app:

============================================  ====  ==========================================
error                                         code  body
============================================  ====  ==========================================
:class:`orchestrator.NotFound`                404   ``{"detail": "order 7 not found — ..."}``
:class:`orchestrator.Conflict`                409   ``{"detail": "<what to do instead>"}``
:class:`orchestrator.InvalidInput`            422   ``detail`` list + ``message`` + ``field``
:class:`orchestrator.vroom.format.VroomInputError`   422   the same (it is an ``InvalidInput``),
plus
                                                    VROOM's ``code`` 2 and ``error``
:class:`routing.InvalidProblemError`          422   the same, field ``body``
FastAPI's ``RequestValidationError``          422   FastAPI's ``detail`` list + ``message``
                                                    + ``field``
the same, on a body not sent as JSON          415   the same shape, field
                                                    ``header.content-type``: send
                                                    ``Content-Type: application/json``
:class:`orchestrator.PlanningFailed`          422   when the input caused it, else 500
a solver worker process died                  503   ``{"detail": ...}``, ``Retry-After``
:class:`~api.runtime.jobs.SolverUnavailable`  503   the same (deadline, memory, queue full)
a busy store (``store.engine.is_busy``)       503   the same (other store errors: 500)
============================================  ====  ==========================================

A domain error's field is prefixed with ``body`` on requests that carry one, as FastAPI
does. Every 422 keeps FastAPI's shape — ``detail`` is a list of ``{"loc", "msg", "type"}`` — so
clients parse one format, and adds ``message`` (one sentence: where and what to fix) and
``field`` (the dotted path of the first culprit, such as ``items.0.weight_g``).

A 422 never repeats more than :data:`ECHO_PREFIX` characters of a bad value (``input``) and
:data:`MAX_MESSAGE` of a message, and is always valid JSON: NaN, infinities, integers beyond
64 bits and lone surrogates in what the client sent are shown as short text.

A body that is not declared JSON (no ``Content-Type``, or ``curl -d``'s
``application/x-www-form-urlencoded``) on an operation that reads a JSON body is answered 415
Unsupported Media Type in the 422's shape, naming the header and the fix
(:func:`unsupported_body`); every operation with a request body documents it. Operations that
read no body, and the pages' HTML forms, are not concerned.

The bodies are documented by :class:`ErrorMessage`, :class:`InvalidInputBody` and
:class:`VroomInputBody`; routes declare the errors they may answer with
:func:`error_responses`, so that the OpenAPI document lists each with its body and an example.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc

from api.runtime.jobs import SolverUnavailable
from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.store.engine import is_busy
from orchestrator.vroom import VroomInputError, error_output
from routing.errors import InvalidProblemError

__all__ = [
    "ECHO_PREFIX",
    "MAX_ISSUES",
    "MAX_MESSAGE",
    "ErrorMessage",
    "InvalidInputBody",
    "Issue",
    "VroomInputBody",
    "dotted",
    "error_responses",
    "install_error_handlers",
    "invalid_body",
    "unsupported_body",
]


class ErrorMessage(BaseModel):
    """The body of a 401, 403, 404, 409 or 503: what went wrong and what to do."""

    detail: str = Field(description="One sentence: what went wrong and what to do instead.")

    model_config = {
        "json_schema_extra": {"examples": [{"detail": "order 7 not found — check the id"}]}
    }


class Issue(BaseModel):
    """One problem with the input, as FastAPI reports it."""

    loc: list[str | int] = Field(description="Where: ``body``/``query``/``path``, then the path.")
    msg: str = Field(description="What is wrong and how to fix it.")
    type: str = Field(description="A machine-readable kind of problem.")


_INVALID_EXAMPLE: dict[str, Any] = {
    "detail": [
        {
            "loc": ["body", "window_end"],
            "msg": "window ends at 2025-03-03T10:00:00+02:00 before it starts at "
            "2025-03-03T14:00:00+02:00 — swap window_start and window_end",
            "type": "value_error",
        }
    ],
    "message": "body.window_end: window ends at 2025-03-03T10:00:00+02:00 before it starts "
    "at 2025-03-03T14:00:00+02:00 — swap window_start and window_end",
    "field": "body.window_end",
}


class InvalidInputBody(BaseModel):
    """The body of a 422: FastAPI's list of issues, plus one sentence and the first culprit."""

    detail: list[Issue]
    message: str = Field(description="Where and what to fix, in one sentence.")
    field: str = Field(
        description="Dotted path of the first culprit, e.g. ``body.items.0.weight_g``."
    )

    model_config = {"json_schema_extra": {"examples": [_INVALID_EXAMPLE]}}


_VROOM_INVALID_EXAMPLE: dict[str, Any] = {
    "detail": [
        {
            "loc": ["body", "jobs", 0, "location"],
            "msg": "latitude 95.0 is outside [-90, 90] — give [lon, lat]",
            "type": "vroom_input",
        }
    ],
    "message": "body.jobs.0.location: latitude 95.0 is outside [-90, 90] — give [lon, lat]",
    "field": "jobs[0].location",
    "code": 2,
    "error": "jobs[0].location: latitude 95.0 is outside [-90, 90] — give [lon, lat]",
}


class VroomInputBody(InvalidInputBody):
    """A 422 of ``POST /solve/vroom``: the same, with VROOM's own error fields; ``field`` is in
    VROOM's spelling (``jobs[0].location``)."""

    code: int = Field(description="VROOM's error code: 2, an input error.")
    error: str = Field(description="VROOM's error message.")

    model_config = {"json_schema_extra": {"examples": [_VROOM_INVALID_EXAMPLE]}}


_ERRORS: dict[int, tuple[str, str]] = {
    401: (
        "No API key, or an unknown or revoked one.",
        "missing API key — send `Authorization: Bearer <key>` (create one with "
        "`lastmile keys create --role planner`)",
    ),
    403: (
        "The key's role may not do this.",
        "an analyst key may not do this — use a key of role admin, planner",
    ),
    404: (
        "No such id (or, for a customer's key, not this customer's).",
        "plan 999 not found — check the id",
    ),
    406: (
        "The `Accept` header asks for no media type this answer comes in; the detail names them.",
        "cannot answer text/html — ask for one of application/json, text/csv",
    ),
    409: (
        "The request conflicts with what is stored; the detail says what to do instead.",
        "plan 3 is superseded, not current — re-plan the day's current plan",
    ),
    429: (
        "Too many failed API keys from this address: wait `Retry-After` seconds.",
        "too many failed API keys from this address — wait 42 s (Retry-After) and check the key",
    ),
    503: (
        "A solver process stopped unexpectedly; send the request again.",
        "the solver process stopped unexpectedly — send the request again",
    ),
}


def error_responses(
    *codes: int, vroom: bool = False, non_json_route: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that may answer with ``codes``.

    Parameters
    ----------
    codes
        Any of 401, 403, 404, 406, 409, 422 and 503; with 401 comes 429 (too many failed keys).
    vroom
        The 422 is :class:`VroomInputBody` rather than :class:`InvalidInputBody`.
    non_json_route
        The route's own responses are not JSON (GeoJSON): FastAPI would document the error
        bodies under that media type, so they are referred to by name instead (the other
        routes register the schemas).
    """
    out: dict[int | str, dict[str, Any]] = {}
    # Where a key is checked, failed keys are counted per address (api.deps): 429 beside 401.
    for code in (*codes, 429) if 401 in codes else codes:
        if code == 422:
            body: type[BaseModel] = VroomInputBody if vroom else InvalidInputBody
            example = _VROOM_INVALID_EXAMPLE if vroom else _INVALID_EXAMPLE
            description = "Bad input: `field` names the culprit, `message` says what to fix."
        else:
            body = ErrorMessage
            description, detail = _ERRORS[code]
            example = {"detail": detail}
        media: dict[str, Any] = {"example": example}
        response: dict[str, Any] = {"description": description}
        if non_json_route:
            media["schema"] = {"$ref": f"#/components/schemas/{body.__name__}"}
        else:
            response["model"] = body
        out[code] = {**response, "content": {"application/json": media}}
    return out


def dotted(loc: Sequence[object]) -> str:
    """A location tuple as a dotted path: ``("body", "items", 0)`` → ``body.items.0``."""
    return ".".join(str(part) for part in loc)


ECHO_PREFIX = 80
"""Characters of a bad value a 422 repeats (its ``input``); the rest is cut."""

MAX_MESSAGE = 400
"""Characters of a message a 422 carries at most."""

MAX_ISSUES = 20
"""Problems a 422 lists at most (its message counts them all)."""

_INT64 = 2**63


def _text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (marked with …), as valid UTF-8."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return cut.encode("utf-8", "replace").decode("utf-8")


def _echo(value: Any) -> Any:
    """What a 422 shows of a bad value: the value itself when short and plain JSON, else a
    short text of it."""
    if value is None or isinstance(value, bool | str):
        return value if value is None or isinstance(value, bool) else _text(value, ECHO_PREFIX)
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else _text(str(value), ECHO_PREFIX)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple | dict):
        shown = json.dumps(value, default=str, ensure_ascii=False)[: ECHO_PREFIX * 4]
        if len(shown) <= ECHO_PREFIX and not any(c in shown for c in ("NaN", "Infinity")):
            try:
                return json.loads(_text(shown, ECHO_PREFIX))
            except ValueError:
                pass
        return _text(shown, ECHO_PREFIX)
    return _text(str(value), ECHO_PREFIX)


def _issue(error: Any) -> dict[str, Any]:
    """One of pydantic's errors as a 422 shows it: plain JSON, the input cut short."""
    issue: dict[str, Any] = {
        "loc": [p if isinstance(p, int) else _text(str(p), ECHO_PREFIX) for p in error["loc"]],
        "msg": _text(str(error.get("msg", "invalid value")), MAX_MESSAGE),
        "type": str(error.get("type", "value_error")),
    }
    if "input" in error:
        issue["input"] = _echo(error["input"])
    ctx = error.get("ctx")
    if isinstance(ctx, dict):
        issue["ctx"] = {str(k): _echo(v) for k, v in ctx.items()}
    return issue


def invalid_body(loc: Sequence[str | int], msg: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A 422 body in FastAPI's shape for one culprit at ``loc``."""
    msg = _text(msg, MAX_MESSAGE)
    return {
        "detail": [{"loc": list(loc), "msg": msg, "type": kind}],
        "message": f"{dotted(loc)}: {msg}" if loc else msg,
        "field": dotted(loc),
        **extra,
    }


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _unprocessable(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=body)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": str(exc)})


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    loc: list[str | int] = list(exc.field)
    # The services name fields of the data they were given, which the routes take from the
    # body: say so, as FastAPI's own errors do, so that clients read one kind of path.
    if request.method in _BODY_METHODS and loc[:1] not in (["body"], ["query"], ["path"]):
        loc.insert(0, "body")
    return _unprocessable(invalid_body(loc, exc.message, "invalid_input"))


async def _vroom_input(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VroomInputError)
    loc: list[str | int] = ["body", *exc.field]
    return _unprocessable(invalid_body(loc, exc.message, "vroom_input", **error_output(exc)))


async def _invalid_problem(_request: Request, exc: Exception) -> JSONResponse:
    return _unprocessable(invalid_body(["body"], str(exc), "invalid_problem"))


async def _planning_failed(_request: Request, exc: Exception) -> JSONResponse:
    # A solve fails on bad input (a malformed routing problem) or for the solver's own
    # reasons; only the first is the caller's to fix.
    if isinstance(exc.__cause__, InvalidProblemError | InvalidInput):
        return _unprocessable(invalid_body(["body"], str(exc), "planning_failed"))
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR, content={"detail": str(exc)}
    )


async def _solver_died(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the solver process stopped unexpectedly — send the request again"},
        headers={"Retry-After": "1"},
    )


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` for what may succeed a moment later: a solve stopped at its
    deadline, its memory cap or a full queue, and a store too busy to take a write in time
    (``database is locked``, a lock timeout); any other store error stays a 500."""
    if isinstance(exc, SolverUnavailable):
        detail, retry_after = exc.detail, exc.retry_after
    elif is_busy(exc):
        detail, retry_after = "the store is busy with other writes — send the request again", 2
    else:
        raise exc
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": detail},
        headers={"Retry-After": str(retry_after)},
    )


JSON_FIX = (
    "send the body as JSON with `Content-Type: application/json` "
    "(curl: -H 'Content-Type: application/json' or --json)"
)
"""What a client sending a JSON body without its media type should do."""

_UNSUPPORTED_LOC: list[str | int] = ["header", "content-type"]


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of ``content_type`` as JSON (``application/json`` or
    ``application/*+json``, parameters aside)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def unsupported_body(content_type: str | None) -> dict[str, Any]:
    """The body of a 415: the 422's shape, naming the header, what was sent and the fix."""
    sent = (
        f"the body was sent as {_text(content_type, ECHO_PREFIX)}, not JSON"
        if content_type
        else "the body was sent with no Content-Type, so it is not read as JSON"
    )
    return invalid_body(_UNSUPPORTED_LOC, f"{sent} — {JSON_FIX}", "unsupported_media_type")


def _body_not_json(request: Request, errors: Sequence[Any]) -> bool:
    """Whether the body failed because it was not declared JSON: a request with a body whose
    ``Content-Type`` FastAPI does not read as JSON, and a problem with that body. A request
    with no body at all is a 422 (the body is missing), whatever its headers."""
    headers = request.headers
    sent = "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")
    return (
        sent
        and request.method in _BODY_METHODS
        and not _is_json(headers.get("content-type"))
        and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    )


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    every = exc.errors()
    if _body_not_json(request, every):
        unsupported = unsupported_body(request.headers.get("content-type"))
        if request.url.path == VROOM_PATH:
            unsupported.update(code=2, error=unsupported["message"])
        return JSONResponse(
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            content=unsupported,
            headers={"Accept-Post": "application/json"},
        )
    errors = [_issue(error) for error in every[:MAX_ISSUES]]
    first = errors[0] if errors else {"loc": ["body"], "msg": "invalid request"}
    loc = [p for p in first.get("loc", []) if isinstance(p, str | int)]
    message = f"{dotted(loc)}: {first.get('msg', 'invalid value')}" + (
        f" (and {len(every) - 1} more)" if len(every) > 1 else ""
    )
    body: dict[str, Any] = {"detail": errors, "message": message, "field": dotted(loc)}
    if request.url.path == VROOM_PATH:
        body.update(code=2, error=message)  # VROOM's own error fields, as its 422 promises
    return _unprocessable(body)


VROOM_PATH = "/solve/vroom"
"""The operation whose 422 also carries VROOM's ``code`` and ``error``."""


def _unsupported_documented(vroom: bool) -> dict[str, Any]:
    """The OpenAPI response of the 415 of an operation with a JSON body."""
    example = unsupported_body("application/x-www-form-urlencoded")
    if vroom:
        example.update(code=2, error=example["message"])
    body = VroomInputBody if vroom else InvalidInputBody
    return {
        "description": "The body was not sent as JSON: send it with "
        "`Content-Type: application/json` (curl: `-H 'Content-Type: application/json'` or "
        "`--json`); `field` is `header.content-type`.",
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{body.__name__}"},
                "example": example,
            }
        },
    }


def _document_unsupported(app: FastAPI) -> None:
    """Add the 415 to every operation of ``app``'s OpenAPI document that takes a body."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (InvalidInputBody, VroomInputBody):
            if model.__name__ not in components:
                generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(generated.pop("$defs", {}))
                components[model.__name__] = generated
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    answers = operation.setdefault("responses", {})
                    answers.setdefault("415", _unsupported_documented(path == VROOM_PATH))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``, and document the 415 of a body not sent as
    JSON on every operation that takes one."""
    _document_unsupported(app)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(VroomInputError, _vroom_input)
    app.add_exception_handler(InvalidProblemError, _invalid_problem)
    app.add_exception_handler(PlanningFailed, _planning_failed)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(BrokenProcessPool, _solver_died)
    for busy in (SolverUnavailable, sa_exc.OperationalError, sa_exc.TimeoutError):
        app.add_exception_handler(busy, _unavailable)
