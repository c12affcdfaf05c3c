"""The one place where errors become HTTP answers.

Domain code raises domain errors; this module maps them, once, for the whole app:

============================================  ====  ==========================================
error                                         code  body
============================================  ====  ==========================================
:class:`orchestrator.NotFound`                404   ``{"detail": "order 7 not found — ..."}``
:class:`orchestrator.Conflict`                409   ``{"detail": "<what to do instead>"}``
:class:`orchestrator.InvalidInput`            422   ``detail`` list + ``message`` + ``field``
:class:`orchestrator.vroom.VroomInputError`   422   the same (it is an ``InvalidInput``), plus
                                                    VROOM's ``code`` 2 and ``error``
:class:`routing.InvalidProblemError`          422   the same, field ``body``
FastAPI's ``RequestValidationError``          422   FastAPI's ``detail`` list + ``message``
                                                    + ``field``
:class:`orchestrator.PlanningFailed`          422   when the input caused it, else 500
a solver worker process died                  503   ``{"detail": ...}``, ``Retry-After``
============================================  ====  ==========================================

A domain error's field is prefixed with ``body`` on requests that carry one, as FastAPI
does. Every 422 keeps FastAPI's shape — ``detail`` is a list of ``{"loc", "msg", "type"}`` — so
clients parse one format, and adds ``message`` (one sentence: where and what to fix) and
``field`` (the dotted path of the first culprit, such as ``items.0.weight_g``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.vroom import VroomInputError, error_output
from routing.errors import InvalidProblemError

__all__ = ["dotted", "install_error_handlers", "invalid_body"]


def dotted(loc: Sequence[object]) -> str:
    """A location tuple as a dotted path: ``("body", "items", 0)`` → ``body.items.0``."""
    return ".".join(str(part) for part in loc)


def invalid_body(loc: Sequence[str | int], msg: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A 422 body in FastAPI's shape for one culprit at ``loc``."""
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
    if request.method in _BODY_METHODS and loc[:1] != ["body"]:
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


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())
    first = errors[0] if errors else {"loc": ["body"], "msg": "invalid request"}
    loc = [p for p in first.get("loc", []) if isinstance(p, str | int)]
    return _unprocessable(
        {
            "detail": errors,
            "message": f"{dotted(loc)}: {first.get('msg', 'invalid value')}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            "field": dotted(loc),
        }
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(VroomInputError, _vroom_input)
    app.add_exception_handler(InvalidProblemError, _invalid_problem)
    app.add_exception_handler(PlanningFailed, _planning_failed)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(BrokenProcessPool, _solver_died)
