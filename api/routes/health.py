"""``/health``: is the service up and its store reachable? No key needed."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SessionDep

__all__ = ["Health", "router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service's state."""

    status: Literal["ok"] = Field(description="Always ``ok`` when the answer arrives.")
    database: Literal["ok"] = Field(description="The store answered a query.")

    model_config = {"json_schema_extra": {"examples": [{"status": "ok", "database": "ok"}]}}


@router.get("/health", summary="Liveness and store check (no key needed)")
def health(session: SessionDep) -> Health:
    """Answer ``ok`` when the app runs and the store answers a trivial query."""
    session.exec(sa.select(1))  # type: ignore[call-overload]  # a core SELECT, not a model
    return Health(status="ok", database="ok")
