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
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.access.keys import authenticate
from orchestrator.models import Role
from orchestrator.planning.travel import TravelTimes
from orchestrator.store.engine import session_scope

__all__ = [
    "STAFF",
    "AdminDep",
    "Caller",
    "CurrentKeyDep",
    "KeyCheck",
    "PlannerDep",
    "SessionDep",
    "StaffDep",
    "TravelDep",
    "get_session",
    "get_travel",
    "key_check",
    "require_role",
]

STAFF = (Role.PLANNER, Role.ANALYST, Role.ADMIN)
"""Roles that see every customer's data."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `lastmile keys create --role ROLE`, as `Bearer lmk_...`.",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the API key's id, role and, for a customer key, its customer."""

    key_id: int
    role: Role
    customer_id: int | None = None

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


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=message,
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_key(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller behind ``Authorization: Bearer <key>``; 401 without a valid key."""
    return _caller(session, credentials)


CurrentKeyDep = Annotated[Caller, Depends(current_key)]
"""The authenticated caller, whatever its role."""


def require_role(*roles: Role) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    """A dependency admitting only ``roles`` (403 for a valid key of another role)."""
    allowed = frozenset(roles)

    async def check(caller: CurrentKeyDep) -> Caller:
        return _admitted(caller, allowed)

    check.roles = allowed  # type: ignore[attr-defined]  # lets tests find role-restricted routes
    return check


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A key read from the request but not yet checked, and the roles that may pass.

    For a route that does all its work in one worker thread: :meth:`caller` checks the key
    there, on the route's own session, instead of in thread hops of its own.
    """

    credentials: HTTPAuthorizationCredentials | None
    roles: frozenset[Role]

    def caller(self, session: Session) -> Caller:
        """The caller; 401 without a valid key, 403 for a key of another role."""
        return _admitted(_caller(session, self.credentials), self.roles)


def key_check(*roles: Role) -> Callable[..., Coroutine[Any, Any, KeyCheck]]:
    """A dependency that reads the key for :class:`KeyCheck` (no store, no thread)."""
    allowed = frozenset(roles)

    async def read(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> KeyCheck:
        return KeyCheck(credentials, allowed)

    read.roles = allowed  # type: ignore[attr-defined]  # lets tests find role-restricted routes
    return read


def _caller(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None:
        raise _unauthorized(
            "missing API key — send `Authorization: Bearer <key>` "
            "(create one with `lastmile keys create --role planner`)"
        )
    found = authenticate(session, credentials.credentials)
    if found is None or found.id is None:
        raise _unauthorized("unknown or revoked API key — check the key or create a new one")
    return Caller(key_id=found.id, role=found.role, customer_id=found.customer_id)


def _admitted(caller: Caller, allowed: frozenset[Role]) -> Caller:
    if caller.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"{_a(caller.role.value)} key may not do this — use a key of role {names}",
        )
    return caller


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


PlannerDep = Annotated[Caller, Depends(require_role(Role.PLANNER, Role.ADMIN))]
"""A caller that may change the plan and standing data: planner or admin."""
StaffDep = Annotated[Caller, Depends(require_role(*STAFF))]
"""A caller that may read everything: planner, analyst or admin."""
AdminDep = Annotated[Caller, Depends(require_role(Role.ADMIN))]
"""An administrator."""
