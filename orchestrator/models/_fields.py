"""What the tables' families are declared with: the field factories they share, and the naming
convention their constraints and indexes are named by.

Every family module imports this one before it declares a table, so the convention is set on
``SQLModel.metadata`` in time: SQLAlchemy names a constraint when it is attached to its table.
"""

import math
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import annotated_types
import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig  # SQLModel's config type: ConfigDict + table

from orchestrator.models.columns import EnumText, UTCDateTime, utcnow

__all__ = [
    "FIRST_DAY",
    "INT64_MAX",
    "INT64_MIN",
    "LAST_DAY",
    "Day",
    "Instant",
    "Int64",
    "StorableModel",
    "created_at_field",
    "enum_field",
    "example_config",
    "json_field",
    "lat_field",
    "lon_field",
    "storable_problem",
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


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
"""The integers the store holds (``BIGINT`` on PostgreSQL, ``INTEGER`` on SQLite)."""

FIRST_DAY = date.min + timedelta(days=1)
LAST_DAY = date.max - timedelta(days=1)
"""The days every time zone can convert: from them, any offset (-12 h to +14 h) stays within
the years 1 to 9999 that a datetime holds."""

_FIRST_INSTANT = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
_LAST_INSTANT = datetime.combine(LAST_DAY, datetime.max.time(), UTC)

Int64 = Annotated[int, annotated_types.Ge(INT64_MIN), annotated_types.Le(INT64_MAX)]
"""An integer the store holds: for ids and integers in paths, queries and the bodies of
models that are not :class:`StorableModel` (which checks every field itself)."""


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return f"the text holds a NUL character at position {text.index(chr(0))} — remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"the text is not valid UTF-8 (a lone surrogate at position {exc.start}) — send "
            "UTF-8 (a \\uD800-\\uDFFF escape only as half of a pair)"
        )
    return None


def storable_problem(value: Any) -> str | None:
    """Why the store cannot hold ``value`` (a plain value, or lists and dicts of them), or
    ``None`` if it can: integers beyond 64 bits, NaN and infinite floats, text that is not
    valid UTF-8 or holds NUL, and days or instants some time zone cannot convert.

    The message never repeats the value, which may be huge."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return f"the integer is beyond 64 bits — give one from {INT64_MIN} to {INT64_MAX}"
    if isinstance(value, float):
        return None if math.isfinite(value) else "the number is not finite — give a finite number"
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            naive = value.replace(tzinfo=UTC)
        else:
            try:
                naive = value.astimezone(UTC)
            except OverflowError:
                naive = None
        if naive is None or not _FIRST_INSTANT <= naive <= _LAST_INSTANT:
            return (
                f"the time is one not every time zone can convert — give one from "
                f"{_FIRST_INSTANT.isoformat()} to {_LAST_INSTANT.isoformat()}"
            )
        return None
    if isinstance(value, date):
        if FIRST_DAY <= value <= LAST_DAY:
            return None
        return (
            f"the day is one not every time zone can convert — give one from {FIRST_DAY} "
            f"to {LAST_DAY}"
        )
    if isinstance(value, BaseModel):
        return None  # a nested model checks its own fields
    if isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            problem = storable_problem(item)
            if problem is not None:
                return f"item {i}: {problem}"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = storable_problem(key) or storable_problem(item)
            if problem is not None:
                return f"entry {str(key)[:40]!r}: {problem}"
        return None
    return None


def _storable(value: Any) -> Any:
    problem = storable_problem(value)
    if problem is not None:
        raise PydanticCustomError("not_storable", "{problem}", {"problem": problem})
    return value


Day = Annotated[date, AfterValidator(_storable)]
"""A day every time zone can convert (:data:`FIRST_DAY` to :data:`LAST_DAY`)."""

Instant = Annotated[datetime, AfterValidator(_storable)]
"""An instant every time zone can convert, stored in UTC."""


class StorableModel(SQLModel):
    """The base of every model of the store: each field holds only what the store can keep.

    Floats must be finite (``NaN``, ``Infinity`` and ``1e400`` are refused where they are
    read); integers fit 64 bits; text is valid UTF-8 without NUL (PostgreSQL refuses both);
    days and instants are ones every time zone can convert. One rule for every field of every
    model, present and future, rather than a type on each."""

    model_config = SQLModelConfig(allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _every_field_storable(cls, value: Any) -> Any:
        return _storable(value)
