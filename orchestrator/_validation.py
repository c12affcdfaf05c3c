"""Turning raw input into validated models, with pydantic's errors as :class:`InvalidInput`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from orchestrator.errors import InvalidInput

__all__ = ["validated"]

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: M | Mapping[str, Any]) -> M:
    """``data`` as a ``model``; the first validation error becomes an :class:`InvalidInput`.

    An instance of the model is re-validated too, since a caller may have built it with
    ``model_construct`` or changed it after construction.
    """
    try:
        payload = data.model_dump() if isinstance(data, BaseModel) else dict(data)
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = tuple(p for p in first["loc"] if isinstance(p, str | int)) or ("body",)
        raise InvalidInput(field, first["msg"]) from None
