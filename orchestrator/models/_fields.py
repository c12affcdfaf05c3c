"""What the tables' families are declared with: the field factories they share, and the naming
convention their constraints and indexes are named by.

Every family module imports this one before it declares a table, so the convention is set on
``SQLModel.metadata`` in time: SQLAlchemy names a constraint when it is attached to its table.
"""

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from orchestrator.models.columns import EnumText, UTCDateTime, utcnow

__all__ = [
    "created_at_field",
    "enum_field",
    "example_config",
    "json_field",
    "lat_field",
    "lon_field",
    "timestamp_field",
]

# Deterministic constraint names, so migrations can refer to them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_field(enum: type[StrEnum], default: Any = ..., **kw: Any) -> Any:
    """A field holding a member of ``enum``, stored as its value (:class:`EnumText`)."""
    return Field(default=default, sa_type=EnumText(enum), **kw)


def timestamp_field(**kw: Any) -> Any:
    """A field holding an aware instant, stored in UTC (:class:`UTCDateTime`)."""
    return Field(sa_type=UTCDateTime, **kw)


def created_at_field() -> Any:
    """A timestamp field set to the time the row is made."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def json_field(**kw: Any) -> Any:
    """A field stored as JSON (lists and dicts of plain values)."""
    return Field(sa_type=sa.JSON, **kw)


def lat_field() -> Any:
    """A WGS84 latitude, degrees."""
    return Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees.")


def lon_field() -> Any:
    """A WGS84 longitude, degrees."""
    return Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees.")


def example_config(**example: Any) -> Any:
    """The config that documents a model with one example (shown in the OpenAPI schema);
    pydantic merges it with the inherited config."""
    return ConfigDict(json_schema_extra={"examples": [example]})
