"""The one error of VROOM input: :class:`VroomInputError`, naming the field in VROOM's spelling."""

from __future__ import annotations

from orchestrator.errors import InvalidInput

__all__ = ["VroomInputError", "field_parts"]


class VroomInputError(InvalidInput):
    """The VROOM payload is invalid or uses something lastmile does not support.

    An :class:`~orchestrator.errors.InvalidInput` (so a ``ValueError``) whose ``field`` is the
    parsed path (``("jobs", 3, "time_windows", 0)``); ``field_path`` keeps VROOM's spelling,
    which is also how the message names the culprit.

    Parameters
    ----------
    field_path
        Where: ``"jobs[3].time_windows[0]"``, ``"vehicles[0].costs.per_km"``, ``""`` for the
        payload itself.
    message
        What is wrong and what to do about it.
    """

    def __init__(self, field_path: str, message: str) -> None:
        self.field_path = field_path
        super().__init__(field_parts(field_path), message)

    @property
    def where(self) -> str:
        """The field path in VROOM's spelling."""
        return self.field_path

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.field_path, self.message)


def field_parts(path: str) -> tuple[str | int, ...]:
    """A VROOM field path as parts: ``"jobs[3].time_windows[0]"`` → ``("jobs", 3,
    "time_windows", 0)``; ``""`` → ``()``."""
    parts: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) if i.isdigit() else i for i in indices)
    return tuple(parts)
