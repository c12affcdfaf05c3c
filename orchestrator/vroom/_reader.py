"""Typed field readers over a decoded VROOM payload, each raising with the field's path.

Private to :mod:`orchestrator.vroom`: :mod:`~orchestrator.vroom.parsing` and
:mod:`~orchestrator.vroom.matrices` read every value through one :class:`Reader`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from orchestrator.vroom.errors import VroomInputError

__all__ = ["INT64_MAX", "Reader"]

INT64_MAX = 2**63 - 1
"""The largest integer a VROOM field may hold (VROOM's ids and amounts are 64-bit)."""


class Reader:
    """Walks the payload once; collects notes; raises at the first error with its path."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.amount_size: int | None = None
        self.amount_origin = ""

    # -- scalar helpers --------------------------------------------------------------------

    def obj(self, value: object, path: str, what: str) -> dict[str, Any]:
        """The value as a JSON object, or an error saying it must describe ``what``."""
        if not isinstance(value, dict):
            raise VroomInputError(path, f"must be a JSON object describing {what}")
        return value

    def array(self, value: object, path: str, what: str) -> list[Any]:
        """The value as a JSON array, or an error saying it must hold ``what``."""
        if not isinstance(value, list):
            raise VroomInputError(path, f"must be a JSON array of {what}")
        return value

    def unknown_keys(self, obj: Mapping[str, Any], known: set[str], path: str) -> None:
        """Note every key of ``obj`` outside ``known`` (ignored, as VROOM does)."""
        for key in obj:
            if key not in known:
                where = f"{path}.{key}" if path else key
                self.notes.append(f"{where}: unknown key, ignored")

    def integer(
        self,
        value: object,
        path: str,
        *,
        minimum: int | None = 0,
        maximum: int | None = None,
    ) -> int:
        """A whole number within ``[minimum, maximum]`` (``None``: unbounded); ``2.0`` is 2."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VroomInputError(path, f"{value!r} is not an integer — give a whole number")
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise VroomInputError(path, f"{value!r} is not an integer — give a whole number")
            value = int(value)
        if minimum is not None and value < minimum:
            raise VroomInputError(path, f"{value} is below {minimum} — give {minimum} or more")
        top = INT64_MAX if maximum is None else min(maximum, INT64_MAX)
        if value > top:
            shown = f"{value}" if value.bit_length() <= 128 else "the number"
            raise VroomInputError(path, f"{shown} is above {top} — give at most {top}")
        return value

    def opt_int(self, obj: Mapping[str, Any], key: str, path: str, default: int, **kw: Any) -> int:
        """``obj[key]`` as :meth:`integer`, or ``default`` when absent or ``null``."""
        if key not in obj or obj[key] is None:
            return default
        return self.integer(obj[key], f"{path}.{key}", **kw)

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        """``obj[key]`` as a string, or ``None`` when absent or ``null``."""
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise VroomInputError(f"{path}.{key}", "must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise VroomInputError(
                f"{path}.{key}",
                f"is not valid UTF-8 (a lone surrogate at position {exc.start}) — send text",
            ) from None
        if "\x00" in value:
            raise VroomInputError(f"{path}.{key}", "holds a NUL character — remove it")
        return value

    def coordinates(self, value: object, path: str) -> tuple[float, float]:
        """A ``[lon, lat]`` pair in degrees, hinting at swapped ones."""
        if not isinstance(value, list) or len(value) != 2:
            raise VroomInputError(path, "must be a [lon, lat] array of two numbers")
        lon, lat = value
        for name, x in (("longitude", lon), ("latitude", lat)):
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                raise VroomInputError(path, f"{name} {x!r} is not a number — give [lon, lat]")
        if not -180.0 <= lon <= 180.0:
            raise VroomInputError(path, f"longitude {lon} is outside [-180, 180] — give [lon, lat]")
        if not -90.0 <= lat <= 90.0:
            hint = " (did you give [lat, lon]? VROOM wants [lon, lat])" if abs(lon) <= 90 else ""
            raise VroomInputError(path, f"latitude {lat} is outside [-90, 90]{hint}")
        return float(lon), float(lat)

    def amount(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[int, ...] | None:
        """An amount or capacity, as long as every other one read; ``None`` when absent."""
        if key not in obj or obj[key] is None:
            return None
        where = f"{path}.{key}"
        values = self.array(obj[key], where, "non-negative integers")
        out = tuple(self.integer(v, f"{where}[{k}]") for k, v in enumerate(values))
        if self.amount_size is None:
            self.amount_size, self.amount_origin = len(out), where
        elif len(out) != self.amount_size:
            raise VroomInputError(
                where,
                f"has {len(out)} entries but {self.amount_origin} has {self.amount_size} — give "
                "every amount and capacity the same number of dimensions",
            )
        return out

    def skills(self, obj: Mapping[str, Any], path: str) -> frozenset[int]:
        """The skill ids (integers) of ``obj``; none when absent."""
        if obj.get("skills") is None:
            return frozenset()
        where = f"{path}.skills"
        values = self.array(obj["skills"], where, "integers")
        return frozenset(self.integer(v, f"{where}[{k}]") for k, v in enumerate(values))

    def window(self, value: object, path: str) -> tuple[int, int]:
        """A ``[start, end]`` time window in seconds, ``start <= end``."""
        if not isinstance(value, list) or len(value) != 2:
            raise VroomInputError(path, "must be a [start, end] array of two integers (seconds)")
        start = self.integer(value[0], f"{path}[0]")
        end = self.integer(value[1], f"{path}[1]")
        if end < start:
            raise VroomInputError(
                path, f"ends at {end} before it starts at {start} — swap start and end"
            )
        return start, end

    def windows(self, obj: Mapping[str, Any], path: str) -> tuple[tuple[int, int], ...]:
        """The ``time_windows`` of ``obj``, sorted and merged; ``()`` when absent."""
        if obj.get("time_windows") is None:
            return ()
        where = f"{path}.time_windows"
        values = self.array(obj["time_windows"], where, "[start, end] pairs")
        if not values:
            raise VroomInputError(where, "is empty — omit it for no time constraint")
        return _merge(self.window(w, f"{where}[{k}]") for k, w in enumerate(values))

    def reject_per_type(self, obj: Mapping[str, Any], path: str) -> None:
        """Refuse ``setup_per_type`` and ``service_per_type``, which lastmile lacks."""
        for key in ("setup_per_type", "service_per_type"):
            if obj.get(key):
                raise VroomInputError(
                    f"{path}.{key}",
                    "per-vehicle-type times are not supported by lastmile — give one "
                    "'service' (and 'setup') for every vehicle",
                )

    # -- locations ----------------------------------------------------------------------------

    def place(
        self,
        obj: Mapping[str, Any],
        path: str,
        loc_key: str,
        index_key: str,
        *,
        required: bool,
        with_matrices: bool,
    ) -> tuple[tuple[float, float] | None, int | None]:
        """Coordinates and matrix index of a place; one of them is required as ``required``
        and ``with_matrices`` say."""
        coords = None
        if obj.get(loc_key) is not None:
            coords = self.coordinates(obj[loc_key], f"{path}.{loc_key}")
        index = None
        if obj.get(index_key) is not None:
            index = self.integer(obj[index_key], f"{path}.{index_key}")
        if required and with_matrices and index is None:
            raise VroomInputError(
                f"{path}.{index_key}",
                "is required when matrices are given — give the row of this place in the matrices",
            )
        if required and not with_matrices and coords is None:
            raise VroomInputError(
                f"{path}.{loc_key}",
                "is required without matrices — give [lon, lat] coordinates, or give "
                "'matrices' and a location index",
            )
        return coords, index


def _merge(windows: Any) -> tuple[tuple[int, int], ...]:
    """Sort windows and merge those that overlap or touch (their union is what counts)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)
