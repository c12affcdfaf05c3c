"""Dependencies of the routes: the store session, the travel times and the caller's API key.

Routes declare what they need with the ``Annotated`` aliases below, never with ``Depends``
inline::

    @router.get("/{order_id}")
    def read_order(order_id: int, session: SessionDep, caller: CurrentKeyDep) -> OrderPublic: ...

The travel-time provider is made once, when the app is built (:func:`api.app.create_app`
keeps it as ``app.state.travel``; a road graph is read from its file then, not per request),
and every route that calls a service needing travel times takes it as :data:`TravelDep` and
passes it on as ``travel=``.

Authentication: ``Authorization: Bearer <key>``. No key or an unknown/revoked one is a 401
with ``WWW-Authenticate: Bearer``; a valid key of the wrong role is a 403. A customer's
key reaches only its own customer's data; other customers' resources answer 404 (the routes
see to that with :attr:`Caller.customer_scope`), so ids cannot be probed.

Tenancy (:mod:`orchestrator.access.tenancy`): a key belongs to the carrier or to one retailer
(:attr:`Caller.retailer_id`). A retailer's key naming another retailer's customer, order,
return, store, product or hold in the path is answered 404 here, once for every route, before
the route runs (:func:`current_key`, :meth:`KeyCheck.caller`); lists pass
:attr:`Caller.retailer_id` to the services, which filter with the same rule; routers and routes
of the carrier's own resources take :data:`CARRIER` and answer a retailer's key 403; a new
customer, store or product is written for the retailer :data:`WriteRetailerDep` names.

The key is judged before the input: :class:`AuthenticationGate`, a middleware, answers 401
at once to a request without a key on a route that needs one (its body is never read), and
when a route answers an error before its key was checked — JSON that does not parse, a query
out of range on a :class:`KeyCheck` route — it checks the key then and answers 401 (or 403
for a valid key of a role the route refuses) instead. A request whose key was checked costs
the gate nothing. The gate also counts each 401 per client address
(:class:`orchestrator.access.lockout.Lockout`, ``LASTMILE_AUTH_FAILURE_*``): an address over
the limit is answered 429 with ``Retry-After`` on every route needing a key, its key
unchecked, until the window frees it; successes are not counted.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.access.keys import authenticate
from orchestrator.access.lockout import Lockout
from orchestrator.access.secret import key_secret
from orchestrator.access.tenancy import CARRIER_ONLY, check_ids, writes_for
from orchestrator.errors import InvalidInput
from orchestrator.models import ApiKey, Role
from orchestrator.planning.travel import TravelTimes
from orchestrator.settings import Settings
from orchestrator.store.engine import session_scope

__all__ = [
    "ANY_BUT_COURIER",
    "CARRIER",
    "STAFF",
    "AdminDep",
    "AuthenticationGate",
    "Caller",
    "CourierDep",
    "CurrentKeyDep",
    "KeyCheck",
    "PlannerDep",
    "SessionDep",
    "StaffDep",
    "TravelDep",
    "WriteRetailerDep",
    "carrier_only",
    "get_session",
    "get_travel",
    "key_check",
    "key_roles",
    "require_role",
]

_log = logging.getLogger(__name__)

STAFF = (Role.PLANNER, Role.ANALYST, Role.ADMIN)
"""Roles that see every customer's data."""

ANY_BUT_COURIER = frozenset(r for r in Role if r is not Role.COURIER)
"""The roles a route open to "any key" admits: a courier's key reaches only its own trips and
offers, never an order, a customer or a plan."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `lastmile keys create --role ROLE`, as `Bearer lmk_...`.",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the API key's id, role, for a customer key its customer, for a
    courier key its courier, and for a retailer's key its retailer (``None``: the carrier's
    key, which sees every retailer)."""

    key_id: int
    role: Role
    customer_id: int | None = None
    courier_id: int | None = None
    retailer_id: int | None = None

    @property
    def customer_scope(self) -> int | None:
        """The only customer this caller may see, or ``None`` when it may see all."""
        return self.customer_id if self.role is Role.CUSTOMER else None


def engine_of(request: Request) -> Engine:
    """The app's engine (set up by :func:`api.app.create_app`)."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, rolled back on error and closed afterwards."""
    with session_scope(engine_of(request)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
"""The store session of the request."""


async def get_travel(request: Request) -> TravelTimes:
    """The app's travel-time provider, made once by :func:`api.app.create_app`.

    ``async`` with nothing to await: FastAPI runs it on the event loop, not in a worker
    thread of its own.
    """
    travel: TravelTimes = request.app.state.travel
    return travel


TravelDep = Annotated[TravelTimes, Depends(get_travel)]
"""The app's travel-time provider, to hand to the services as ``travel=``."""


_MISSING_KEY = (
    "missing API key — send `Authorization: Bearer <key>` "
    "(create one with `lastmile keys create --role planner`)"
)
_UNKNOWN_KEY = "unknown or revoked API key — check the key or create a new one"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_CALLER = "caller"
"""Where the request's state keeps the caller once its key is checked (the gate reads it)."""


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED, detail=message, headers=_CHALLENGE
    )


def _secret(request: Request) -> bytes:
    """The key secret of the app's store (``LASTMILE_KEY_SECRET`` or its file)."""
    return _settings_secret(request.app.state.settings)


def _settings_secret(settings: Settings) -> bytes:
    configured = settings.key_secret
    return key_secret(settings.database_url, configured.get_secret_value() if configured else None)


def _authenticated(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller behind ``Authorization: Bearer <key>``, whatever its role; 401 without a
    valid key."""
    caller = _caller(session, credentials, _secret(request))
    setattr(request.state, _CALLER, caller)
    check_ids(session, caller.retailer_id, request.path_params)
    return caller


async def current_key(caller: Annotated[Caller, Depends(_authenticated)]) -> Caller:
    """The caller behind ``Authorization: Bearer <key>``; 401 without a valid key, 403 for a
    courier's key (it reaches only ``/couriers``: :data:`CourierDep`)."""
    return _admitted(caller, ANY_BUT_COURIER)


CurrentKeyDep = Annotated[Caller, Depends(current_key)]
"""The authenticated caller, of any role but a courier."""


def require_role(*roles: Role) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    """A dependency admitting only ``roles`` (403 for a valid key of another role)."""
    allowed = frozenset(roles)

    async def check(caller: Annotated[Caller, Depends(_authenticated)]) -> Caller:
        return _admitted(caller, allowed)

    check.roles = allowed  # type: ignore[attr-defined]  # lets the gate and tests find the roles
    return check


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A key read from the request but not yet checked, and the roles that may pass.

    For a route that does all its work in one worker thread: :meth:`caller` checks the key
    there, on the route's own session, instead of in thread hops of its own.
    """

    credentials: HTTPAuthorizationCredentials | None
    roles: frozenset[Role]
    request: Request

    def caller(self, session: Session) -> Caller:
        """The caller; 401 without a valid key, 403 for a key of another role."""
        caller = _caller(session, self.credentials, _secret(self.request))
        setattr(self.request.state, _CALLER, caller)
        admitted = _admitted(caller, self.roles)
        check_ids(session, caller.retailer_id, self.request.path_params)
        return admitted


def key_check(*roles: Role) -> Callable[..., Coroutine[Any, Any, KeyCheck]]:
    """A dependency that reads the key for :class:`KeyCheck` (no store, no thread)."""
    allowed = frozenset(roles)

    async def read(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> KeyCheck:
        return KeyCheck(credentials, allowed, request)

    read.roles = allowed  # type: ignore[attr-defined]  # lets the gate and tests find the roles
    return read


def _caller(
    session: Session, credentials: HTTPAuthorizationCredentials | None, secret: bytes
) -> Caller:
    if credentials is None:
        raise _unauthorized(_MISSING_KEY)
    found = authenticate(session, credentials.credentials, secret=secret)
    if found is None or found.id is None:
        raise _unauthorized(_UNKNOWN_KEY)
    return _caller_of(found.id, found)


def _caller_of(key_id: int, found: ApiKey) -> Caller:
    return Caller(
        key_id,
        found.role,
        found.customer_id,
        courier_id=found.courier_id,
        retailer_id=found.retailer_id,
    )


def _admitted(caller: Caller, allowed: frozenset[Role]) -> Caller:
    if caller.role not in allowed:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail=_forbidden(caller.role, allowed)
        )
    return caller


def _forbidden(role: Role, allowed: frozenset[Role]) -> str:
    names = ", ".join(sorted(r.value for r in allowed))
    return f"{_a(role.value)} key may not do this — use a key of role {names}"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def key_roles(route: BaseRoute | None) -> frozenset[Role] | None:
    """The roles whose keys ``route`` admits, or ``None`` when it needs no key.

    Read from its dependencies: :func:`current_key` (any role), or the checks of
    :func:`require_role` and :func:`key_check` (their ``roles``).
    """
    if not isinstance(route, APIRoute):
        return None
    roles: frozenset[Role] | None = None
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        pending.extend(dependency.dependencies)
        admitted: frozenset[Role] | None = getattr(dependency.call, "roles", None)
        if admitted is not None:
            roles = admitted if roles is None else roles & admitted
        elif dependency.call is current_key and roles is None:
            roles = ANY_BUT_COURIER
    return roles


class AuthenticationGate:
    """A middleware judging the key before the input, and limiting failed keys per address.

    Parameters
    ----------
    app
        The next ASGI app (Starlette's ``add_middleware`` passes it).
    api
        The FastAPI app: its routes say which requests need a key, its state holds the
        store and settings the key is checked against.
    settings
        The limits on failed authentications (``LASTMILE_AUTH_FAILURE_*``).
    """

    def __init__(self, app: ASGIApp, *, api: FastAPI, settings: Settings) -> None:
        self.app = app
        self.api = api
        self.lockout = Lockout(
            settings.auth_failure_limit,
            settings.auth_failure_window_s,
            settings.auth_failure_addresses,
        )
        # The board's sign-in counts its failures here too (api.pages.board).
        api.state.lockout = self.lockout
        self._roles: dict[int, tuple[BaseRoute, frozenset[Role] | None]] = {}
        self._operations: list[tuple[re.Pattern[str], set[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = _address(scope)
        # Both looks are free for an address that has not failed and a request with a key;
        # only then is the route matched here.
        wait = self.lockout.retry_after(address)
        if wait is not None and self._keyed(scope):
            await _too_many(wait)(scope, receive, send)
            return
        if _bearer_key(scope) is None and self._keyed(scope):
            self.lockout.record_failure(address)
            await _refusal(_MISSING_KEY)(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        replaced = started = False

        async def gate(message: Message) -> None:
            nonlocal replaced, started
            if replaced:
                return  # the rest of an answer the gate replaced
            if message["type"] == "http.response.start":
                started = True
                code = message["status"]
                if code == status.HTTP_401_UNAUTHORIZED:
                    if self._needs_key(scope.get("route")):
                        self.lockout.record_failure(address)
                elif 400 <= code < 500 and code not in (403, 429) and _CALLER not in state:
                    verdict = await self._verdict(scope, address)
                    if verdict is not None:
                        replaced = True
                        await verdict(scope, receive, send)
                        return
            await send(message)

        try:
            await self.app(scope, receive, gate)
        except Exception:
            if started or _CALLER in state:
                raise
            verdict = await self._verdict(scope, address)
            if verdict is None:
                raise
            _log.warning("a request without a valid key failed before its key was checked",
                         exc_info=True)  # fmt: skip
            await verdict(scope, receive, send)

    async def _verdict(self, scope: Scope, address: str) -> JSONResponse | None:
        """401 or 403 for a request whose route needs a key it lacks, else ``None``."""
        # An answer before routing (413, a body too large) stands: it is quick on purpose,
        # and a request without any key never gets that far.
        roles = self._roles_of(scope.get("route"))
        if roles is None:
            return None
        key = _bearer_key(scope)
        try:
            caller = None if key is None else await run_in_threadpool(self._check, key)
        except Exception:  # the store fails: the original answer stands
            _log.warning("could not check an API key after an error answer", exc_info=True)
            return None
        if caller is None:
            self.lockout.record_failure(address)
            return _refusal(_MISSING_KEY if key is None else _UNKNOWN_KEY)
        if caller.role not in roles:
            return JSONResponse({"detail": _forbidden(caller.role, roles)}, status_code=403)
        return None

    def _check(self, key: str) -> Caller | None:
        """The caller of ``key`` on a session of its own (in a worker thread)."""
        engine: Engine = self.api.state.engine
        with session_scope(engine) as session:
            found = authenticate(session, key, secret=_settings_secret(self.api.state.settings))
            if found is None or found.id is None:
                return None
            return _caller_of(found.id, found)

    def _keyed(self, scope: Scope) -> bool:
        """Whether the request is for an operation that needs a key, before it is routed.

        Read from the OpenAPI document (operations with a security requirement), which
        the app makes once; after routing, :meth:`_roles_of` reads the route itself.
        """
        if self._operations is None:
            self._operations = [
                (compile_path(path)[0], methods)
                for path, operations in self.api.openapi()["paths"].items()
                if (methods := {m.upper() for m, op in operations.items() if op.get("security")})
            ]
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        method = scope["method"]
        return any(method in methods and regex.match(path) for regex, methods in self._operations)

    def _roles_of(self, route: BaseRoute | None) -> frozenset[Role] | None:
        if route is None:
            return None
        known = self._roles.get(id(route))
        if known is None:
            # Keyed by id (routes need not be hashable); the route is kept so its id stays its.
            known = self._roles[id(route)] = (route, key_roles(route))
        return known[1]

    def _needs_key(self, route: BaseRoute | None) -> bool:
        return self._roles_of(route) is not None


def _address(scope: Scope) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded: uvicorn's)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _bearer_key(scope: Scope) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or ``None`` without one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return key.strip() or None
    return None


def _refusal(message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=401, headers=_CHALLENGE)


def _too_many(wait_s: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait_s))
    return JSONResponse(
        {
            "detail": f"too many failed API keys from this address — wait {seconds} s "
            "(Retry-After) and check the key"
        },
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(seconds)},
    )


PlannerDep = Annotated[Caller, Depends(require_role(Role.PLANNER, Role.ADMIN))]
"""A caller that may change the plan and standing data: planner or admin."""
StaffDep = Annotated[Caller, Depends(require_role(*STAFF))]
"""A caller that may read everything: planner, analyst or admin."""
AdminDep = Annotated[Caller, Depends(require_role(Role.ADMIN))]
"""An administrator."""
CourierDep = Annotated[Caller, Depends(require_role(Role.COURIER))]
"""A commuter courier (their own trips and offers only: :attr:`Caller.courier_id`)."""


async def carrier_only(caller: Annotated[Caller, Depends(_authenticated)]) -> Caller:
    """A dependency admitting only the carrier's keys (403 for a retailer's key).

    A customer's key (its customer's retailer's) is left to the route's role check, which
    refuses it with the roles that may.
    """
    if caller.retailer_id is not None and caller.role is not Role.CUSTOMER:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=CARRIER_ONLY)
    return caller


CARRIER = Depends(carrier_only)
"""For ``dependencies=[CARRIER]`` of a router or a route of the carrier's own resources."""


async def write_retailer(
    caller: CurrentKeyDep,
    retailer_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,
            description="The retailer the new row belongs to (carrier keys; none: the default "
            "retailer). A retailer's key writes for its own retailer and may leave it out.",
        ),
    ] = None,
) -> int | None:
    """The retailer a new customer, store or product is written for (``None``: the default)."""
    try:
        return writes_for(caller.retailer_id, retailer_id)
    except InvalidInput as exc:  # named where the request gave it
        raise InvalidInput(("query", *exc.field), exc.message) from None


WriteRetailerDep = Annotated[int | None, Depends(write_retailer)]
"""The retailer a route creating a customer, store or product writes for."""
