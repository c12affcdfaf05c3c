"""Column types shared by the tables: aware UTC timestamps and string-backed enums.

Both are stored as portable plain types (``TIMESTAMP WITH TIME ZONE`` / ``VARCHAR``), so the
schema is the same on SQLite and PostgreSQL and adding an enum member needs no migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["EnumText", "UTCDateTime", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as timezone-aware UTC.

    Naive datetimes are refused: a time without an offset is ambiguous, and guessing has
    burnt every logistics system that did.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp {value.isoformat()} has no UTC offset — give an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no offset; everything was written in UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EnumText(sa.types.TypeDecorator[StrEnum]):
    """A :class:`enum.StrEnum` stored as its value in a ``VARCHAR(length)``."""

    impl = sa.String(24)
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 24) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)
