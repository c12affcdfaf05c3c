"""Travel matrices per profile: read from the payload, or computed from coordinates.

Given ``matrices`` (or the legacy ``matrix``) are validated into integer read-only arrays.
Without them, travel follows the great-circle line stretched by :data:`DETOUR_FACTOR`, at the
speed :data:`PROFILE_SPEEDS_KMH` gives the profile: durations in seconds, distances in metres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from orchestrator.vroom._reader import Reader
from orchestrator.vroom.errors import VroomInputError
from orchestrator.vroom.model import VroomMatrices
from routing.matrix import URBAN_DETOUR_FACTOR, haversine_matrix

__all__ = [
    "DEFAULT_PROFILE",
    "DETOUR_FACTOR",
    "PROFILE_SPEEDS_KMH",
    "given_matrices",
    "straight_line_matrices",
]

DEFAULT_PROFILE = "car"
"""VROOM's default vehicle profile."""

PROFILE_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "car": 40.0,
        "driving-car": 40.0,
        "truck": 30.0,
        "hgv": 30.0,
        "driving-hgv": 30.0,
        "bike": 15.0,
        "bicycle": 15.0,
        "cycling-regular": 15.0,
        "cycling-electric": 20.0,
        "foot": 5.0,
        "walking": 5.0,
        "foot-walking": 5.0,
    }
)
"""Average speed in km/h along the detoured straight line, per VROOM / openrouteservice profile,
used only when no matrices are given. Unknown profiles move at the ``car`` speed."""

DETOUR_FACTOR = URBAN_DETOUR_FACTOR
"""Road distance over great-circle distance assumed without matrices (a common urban value)."""

_MATRIX_KEYS = {"durations", "distances", "costs"}


def given_matrices(p: Reader, top: Mapping[str, Any]) -> dict[str, VroomMatrices] | None:
    """The payload's ``matrices`` (or legacy ``matrix``, profile ``car``) per profile, or ``None``
    when it gives neither; seconds, metres and costs as integer read-only arrays."""
    if top.get("matrix") is not None and top.get("matrices") is not None:
        raise VroomInputError("matrix", "give either 'matrices' or the legacy 'matrix', not both")
    if top.get("matrix") is not None:
        durations = _matrix(p, top["matrix"], "matrix")
        return {DEFAULT_PROFILE: VroomMatrices(durations=durations)}
    if top.get("matrices") is None:
        return None
    raw = p.obj(top["matrices"], "matrices", "matrices per profile")
    out: dict[str, VroomMatrices] = {}
    for name, entry in raw.items():
        path = f"matrices.{name}"
        m = p.obj(entry, path, "the durations, distances and costs of one profile")
        p.unknown_keys(m, _MATRIX_KEYS, path)
        if m.get("durations") is None:
            raise VroomInputError(
                f"{path}.durations", "is missing — give the travel times (seconds) of the profile"
            )
        parsed = {
            key: _matrix(p, m[key], f"{path}.{key}")
            for key in ("durations", "distances", "costs")
            if m.get(key) is not None
        }
        n = parsed["durations"].shape[0]
        for key, arr in parsed.items():
            if arr.shape[0] != n:
                raise VroomInputError(
                    f"{path}.{key}", f"has {arr.shape[0]} rows but durations has {n}"
                )
        out[name] = VroomMatrices(**parsed)
    if not out:
        raise VroomInputError("matrices", "is empty — give at least one profile's durations")
    sizes = {m.durations.shape[0] for m in out.values()}
    if len(sizes) > 1:
        raise VroomInputError(
            "matrices",
            f"profiles have different sizes {sorted(sizes)} — give every profile "
            "one row per location",
        )
    return out


def _matrix(p: Reader, value: object, path: str) -> np.ndarray:
    """One square matrix of non-negative integers, read-only."""
    rows = p.array(value, path, "rows (arrays of non-negative integers)")
    if not rows:
        raise VroomInputError(path, "is empty — give one row per location")
    n = len(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n:
            raise VroomInputError(
                f"{path}[{i}]", f"must be an array of {n} integers (the matrix must be square)"
            )
    try:
        arr = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise VroomInputError(path, "must contain numbers only") from exc
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.floor(arr))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise VroomInputError(f"{path}[{i}][{j}]", f"{rows[i][j]!r} is not a non-negative integer")
    out = arr.astype(np.int64)
    out.flags.writeable = False
    return out


def straight_line_matrices(
    points: Sequence[tuple[float, float]], profiles: Sequence[str]
) -> tuple[dict[str, VroomMatrices], list[str]]:
    """Durations and distances between ``[lon, lat]`` points along the detoured straight line.

    Parameters
    ----------
    points
        ``[lon, lat]`` of each matrix row, in degrees.
    profiles
        The profiles in use; an unknown one moves at the :data:`DEFAULT_PROFILE` speed.

    Returns
    -------
    tuple
        Per profile, durations in seconds (rounded up) and distances in metres (rounded),
        integer read-only arrays; and the notes to report (unknown profiles, the speeds used).
    """
    notes: list[str] = []
    lons = [c[0] for c in points]
    lats = [c[1] for c in points]
    metres = haversine_matrix(lats, lons) * DETOUR_FACTOR if points else np.zeros((0, 0))
    matrices = {}
    for name in profiles:
        speed = PROFILE_SPEEDS_KMH.get(name)
        if speed is None:
            speed = PROFILE_SPEEDS_KMH[DEFAULT_PROFILE]
            notes.append(
                f"profile {name!r}: unknown, travels at the {DEFAULT_PROFILE} speed {speed:g} km/h"
            )
        durations = np.ceil(metres / (speed / 3.6) - 1e-6).clip(min=0).astype(np.int64)
        distances = np.rint(metres).astype(np.int64)
        durations.flags.writeable = False
        distances.flags.writeable = False
        matrices[name] = VroomMatrices(durations=durations, distances=distances)
    notes.append(
        "no matrices given: straight-line travel computed from coordinates (great-circle "
        f"distance x {DETOUR_FACTOR:g}, speeds in km/h: "
        + ", ".join(
            f"{name} {PROFILE_SPEEDS_KMH.get(name, PROFILE_SPEEDS_KMH[DEFAULT_PROFILE]):g}"
            for name in profiles
        )
        + ")"
    )
    return matrices, notes
