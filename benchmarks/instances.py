"""Public VRP benchmark instances read into plain integer data and into :class:`routing.Problem`.

Two families, each in the rounding convention of its distance-only best-known solutions (see
``shared/benchmarks/README.md``):

* **VRPTW** (Solomon, Gehring & Homberger), from the Solomon text format (``*.txt``) or VRPLIB
  (``*.vrp``). DIMACS convention: every arc's distance *and* travel time is
  ``floor(10 * euclid)``; ready times, due dates and service times are multiplied by 10. The
  due date is the latest service *start*. The fleet is the file's vehicle number.
  A reported distance is the integer objective divided by 10 (``827.3`` for C101).
* **CVRP** (Uchoa et al. "X", VRPLIB ``EUC_2D``): arc = ``round(euclid)``, no time windows,
  no service times. The benchmark has no fleet limit; we give ``K = k + max(3, ceil(k / 4))``
  vehicles, ``k`` from the name ``X-nNNN-kK`` (the minimum number of routes). A reported
  distance is the integer objective itself.

Distances are computed as ``sqrt`` of the exact integer sum of squares in double precision,
then truncated (VRPTW) or rounded (CVRP): the same numbers ``vrplib`` and
``pyvrp.read(..., round_func="dimacs" | "round")`` produce, which is what the published BKS
use. Reading is independent of the routing engine: :class:`Instance` holds numpy arrays only,
so the checker (:mod:`benchmarks.checker`) can judge any solver on the instance's own numbers.
:func:`to_problem` is the one bridge to :mod:`routing`.

Best-known solutions come from a ``*.csv`` table next to the files (or one folder up) with an
``instance`` column and one of ``dimacs_distance``, ``bks_distance`` or ``bks``; failing that,
from the ``Cost`` line of the VRPLIB ``.sol`` twin of the instance. Both are in the reported
convention: the VRPTW ``.sol`` files of ``PyVRP/Instances`` state the DIMACS distance already
divided by 10 (``C101.sol``: ``Cost 827.3`` for an integer objective of 8273), the X ``.sol``
files the integer sum of rounded arcs.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
import vrplib

from routing.model import Location, Problem, Stop, TimeWindow, TravelMatrix, Vehicle, VehicleType

__all__ = [
    "CVRP_HORIZON",
    "DEFAULT_DATA_DIR",
    "SUITES",
    "Bks",
    "Instance",
    "InstanceError",
    "Kind",
    "bks_table_for",
    "cvrp_fleet",
    "find_instances",
    "load_bks_tables",
    "read_instance",
    "read_suite",
    "to_problem",
]

DEFAULT_DATA_DIR: Path = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"
"""``../shared/benchmarks`` from the repository root, whatever the working directory."""

CVRP_HORIZON: int = 10**9 // 10
"""Shift end for CVRP vehicles (matrix units): far beyond any route, so it never binds."""

SUITES: Mapping[str, tuple[str, ...]] = {
    "solomon": ("solomon",),
    "homberger": ("homberger",),
    "x": ("cvrplib_x",),
}
"""Suite name -> folder under the data directory."""

_FORMAT_DIRS: Mapping[str, tuple[str, ...]] = {
    # Preferred first: the VRPLIB files have .sol twins and are what PyVRP reads directly.
    "auto": ("vrplib", "txt", ""),
    "vrplib": ("vrplib", ""),
    "txt": ("txt", ""),
}
_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "auto": (".vrp", ".txt"),
    "vrplib": (".vrp",),
    "txt": (".txt",),
}
_BKS_COLUMNS = ("dimacs_distance", "bks_distance", "bks")
_X_NAME = re.compile(r"-k(\d+)$", re.IGNORECASE)


class InstanceError(ValueError):
    """An instance file or folder cannot be read; the message names the file and the problem."""


class Kind(StrEnum):
    """Problem family, which fixes the rounding convention and the reported unit."""

    VRPTW = "vrptw"
    CVRP = "cvrp"


@dataclass(frozen=True, slots=True)
class Bks:
    """A best-known total distance in the reported convention and where it was read."""

    distance: float
    source: str


@dataclass(frozen=True, slots=True, eq=False)
class Instance:
    """One benchmark instance as integers; node 0 is the depot, customers are ``1..n``.

    Parameters
    ----------
    name
        The file stem (``C101``, ``C1_2_1``, ``X-n101-k25``), which is the key of the BKS tables.
    kind
        VRPTW or CVRP; see the module docstring for the conventions.
    path
        The file it was read from.
    coords
        ``(n + 1, 2)`` float array of the file's x, y coordinates.
    matrix
        ``(n + 1, n + 1)`` int64 arc distances, equal to the travel times (matrix units).
    demand, ready, due, service
        ``(n + 1,)`` int64 arrays: demand, earliest and latest service start, service duration
        (time in matrix units). The depot's ready/due bound departure and return; for CVRP the
        windows are ``[0, CVRP_HORIZON]`` and service is 0.
    capacity
        Capacity of every vehicle (one dimension).
    fleet
        Number of identical vehicles available.
    bks
        Best-known distance in the reported convention, or ``None`` when unknown.
    """

    name: str
    kind: Kind
    path: Path
    coords: np.ndarray
    matrix: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    capacity: int
    fleet: int
    bks: Bks | None = None

    def __post_init__(self) -> None:
        n = self.matrix.shape[0]
        if self.matrix.shape != (n, n) or n < 2:
            raise InstanceError(f"{self.path}: matrix shape {self.matrix.shape} is not (n+1, n+1)")
        for label in ("demand", "ready", "due", "service"):
            if getattr(self, label).shape != (n,):
                raise InstanceError(f"{self.path}: {label} does not have {n} entries")
        for arr in (self.matrix, self.demand, self.ready, self.due, self.service):
            arr.flags.writeable = False

    @property
    def customers(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return int(self.matrix.shape[0]) - 1

    @property
    def scale(self) -> int:
        """Matrix units per reported distance unit: 10 for VRPTW (DIMACS), 1 for CVRP."""
        return 10 if self.kind is Kind.VRPTW else 1

    def reported(self, units: int) -> float:
        """A total in matrix units, in the convention of the BKS (``8273`` -> ``827.3``)."""
        return units / 10 if self.kind is Kind.VRPTW else float(units)


def cvrp_fleet(name: str, demand: np.ndarray, capacity: int) -> int:
    """Fleet size for a CVRP instance: ``k + max(3, ceil(k / 4))``.

    ``k`` comes from the name (``X-n101-k25`` -> 25), else the capacity lower bound
    ``ceil(total demand / capacity)``. The margin keeps the fleet from binding, since the
    X benchmark has no fleet limit (X-n101-k25's BKS uses 26 routes).
    """
    match = _X_NAME.search(name)
    k = int(match.group(1)) if match else math.ceil(int(demand.sum()) / max(capacity, 1))
    k = max(k, 1)
    return k + max(3, math.ceil(0.25 * k))


def _euclid(coords: np.ndarray) -> np.ndarray:
    diff = coords[:, None, :] - coords[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def _matrix(coords: np.ndarray, kind: Kind) -> np.ndarray:
    d = _euclid(coords)
    if kind is Kind.VRPTW:
        # Truncation, not floor of a rounded value: the DIMACS rule as pyvrp's "dimacs" applies it.
        return (10 * d).astype(np.int64)
    return np.round(d).astype(np.int64)


def _int_column(values: Iterable[float], what: str, path: Path) -> np.ndarray:
    arr = np.asarray(list(values), dtype=np.float64)
    if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
        raise InstanceError(f"{path}: {what} must be integers, got {arr[:5]}...")
    return arr.astype(np.int64)


def _read_solomon_txt(path: Path) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Coordinates, demand, (ready, due, service) rows, fleet and capacity of a Solomon file.

    The format has a name line, a ``VEHICLE`` block whose number line holds ``NUMBER
    CAPACITY``, then customer rows of seven numbers (depot first). Blank lines, CRLF endings
    and trailing spaces vary between copies, so the parser keys on tokens, not on positions.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(f"{path}: cannot read it as text: {exc}") from exc
    fleet = capacity = None
    rows: list[list[float]] = []
    section = ""
    for raw in lines:
        tokens = raw.split()
        if not tokens:
            continue
        head = tokens[0].upper()
        if head in ("VEHICLE", "CUSTOMER"):
            section = head
            continue
        if not all(_is_number(t) for t in tokens):
            continue  # the name line and column headers
        if section == "VEHICLE" and len(tokens) == 2 and fleet is None:
            fleet, capacity = int(tokens[0]), int(tokens[1])
        elif section == "CUSTOMER" and len(tokens) == 7:
            rows.append([float(t) for t in tokens])
    if fleet is None or capacity is None:
        raise InstanceError(f"{path}: no VEHICLE block with 'NUMBER CAPACITY' found")
    if len(rows) < 2:
        raise InstanceError(f"{path}: fewer than two CUSTOMER rows (depot and one customer)")
    data = np.asarray(rows)
    ids = data[:, 0].astype(np.int64)
    if not np.array_equal(ids, np.arange(len(rows))):
        raise InstanceError(f"{path}: customer numbers must run 0, 1, 2, ... (depot 0)")
    coords = data[:, 1:3]
    demand = _int_column(data[:, 3], "demands", path)
    times = np.stack([_int_column(data[:, c], "times", path) for c in (4, 5, 6)], axis=1)
    return path.stem, coords, demand, times, fleet, capacity


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_solomon(path: Path) -> Instance:
    name, coords, demand, times, fleet, capacity = _read_solomon_txt(path)
    return Instance(
        name=name,
        kind=Kind.VRPTW,
        path=path,
        coords=coords,
        matrix=_matrix(coords, Kind.VRPTW),
        demand=demand,
        ready=times[:, 0] * 10,
        due=times[:, 1] * 10,
        service=times[:, 2] * 10,
        capacity=capacity,
        fleet=fleet,
    )


def _read_vrplib(path: Path) -> Instance:
    """A VRPLIB ``EUC_2D`` file with one depot at node 1, with or without time windows."""
    try:
        raw = vrplib.read_instance(str(path))
    except Exception as exc:  # vrplib raises bare ValueError/IndexError on malformed input
        raise InstanceError(f"{path}: vrplib cannot read it: {exc}") from exc
    if str(raw.get("edge_weight_type", "")).upper() != "EUC_2D" or "node_coord" not in raw:
        raise InstanceError(f"{path}: only EDGE_WEIGHT_TYPE EUC_2D with coordinates is supported")
    depots = np.atleast_1d(raw.get("depot", np.array([0])))
    if depots.tolist() != [0]:
        raise InstanceError(f"{path}: exactly one depot, node 1, is supported (got {depots + 1})")
    coords = np.asarray(raw["node_coord"], dtype=np.float64)
    n = coords.shape[0]
    demand = _int_column(raw.get("demand", np.zeros(n)), "demands", path)
    capacity = int(raw["capacity"])
    name = path.stem
    if "time_window" in raw:
        tw = np.asarray(raw["time_window"])
        ready = _int_column(tw[:, 0], "time windows", path) * 10
        due = _int_column(tw[:, 1], "time windows", path) * 10
        service_raw = raw.get("service_time", 0)
        service = _int_column(np.broadcast_to(service_raw, (n,)), "service times", path) * 10
        if np.ndim(service_raw) == 0:
            service[0] = 0  # a scalar SERVICE_TIME applies to customers only
        if "vehicles" not in raw:
            raise InstanceError(f"{path}: a VRPTW file needs a VEHICLES line (the fleet size)")
        return Instance(
            name=name,
            kind=Kind.VRPTW,
            path=path,
            coords=coords,
            matrix=_matrix(coords, Kind.VRPTW),
            demand=demand,
            ready=ready,
            due=due,
            service=service,
            capacity=capacity,
            fleet=int(raw["vehicles"]),
        )
    fleet = (
        cvrp_fleet(name, demand, capacity)
        if _X_NAME.search(name) or "vehicles" not in raw
        else int(raw["vehicles"])
    )
    return Instance(
        name=name,
        kind=Kind.CVRP,
        path=path,
        coords=coords,
        matrix=_matrix(coords, Kind.CVRP),
        demand=demand,
        ready=np.zeros(n, dtype=np.int64),
        due=np.full(n, CVRP_HORIZON, dtype=np.int64),
        service=np.zeros(n, dtype=np.int64),
        capacity=capacity,
        fleet=fleet,
    )


def load_bks_tables(folders: Iterable[Path]) -> dict[str, Bks]:
    """Best-known distances by instance name from every usable ``*.csv`` in ``folders``.

    A usable table has an ``instance`` column and one of ``dimacs_distance`` (VRPTW,
    distance-only DIMACS), ``bks_distance`` (X) or ``bks``; other CSVs are ignored. The
    hierarchical VRPTW columns are never used: they minimise vehicles first and are not
    comparable to a distance-only objective. Earlier folders win on a clash.
    """
    table: dict[str, Bks] = {}
    for folder in folders:
        for csv_path in sorted(folder.glob("*.csv")):
            with csv_path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                fields = reader.fieldnames or []
                column = next((c for c in _BKS_COLUMNS if c in fields), None)
                if "instance" not in fields or column is None:
                    continue
                for row in reader:
                    value = (row.get(column) or "").strip()
                    name = (row.get("instance") or "").strip()
                    if name and value and name not in table:
                        table[name] = Bks(float(value), f"{csv_path.name}:{column}")
    return table


def _sol_bks(path: Path) -> Bks | None:
    sol = path.with_suffix(".sol")
    if not sol.is_file():
        return None
    try:
        cost = vrplib.read_solution(str(sol)).get("cost")
    except Exception:  # a malformed .sol only costs us the BKS, not the run
        return None
    return None if cost is None else Bks(float(cost), f"{sol.name}:Cost")


def read_instance(path: Path | str, bks_table: Mapping[str, Bks] | None = None) -> Instance:
    """Read one ``.txt`` (Solomon) or ``.vrp`` (VRPLIB) file, with its BKS when known.

    Parameters
    ----------
    path
        The instance file; the suffix chooses the parser.
    bks_table
        Best-known distances by instance name (see :func:`load_bks_tables`). When ``None``,
        the CSVs in the file's folder and its parent are read. Instances missing from the
        table fall back to the ``.sol`` twin's ``Cost``, else the BKS is unknown.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        inst = _read_solomon(path)
    elif suffix == ".vrp":
        inst = _read_vrplib(path)
    else:
        raise InstanceError(f"{path}: unknown instance format (expected .txt or .vrp)")
    if bks_table is None:
        bks_table = bks_table_for(path.parent)
    return replace(inst, bks=bks_table.get(inst.name) or _sol_bks(path))


def _bks_folders(folder: Path) -> list[Path]:
    # solomon/vrplib/C101.vrp has its table in solomon/; a flat custom folder has it beside.
    return [folder, folder.parent] if folder.parent != folder else [folder]


def bks_table_for(folder: Path | str) -> dict[str, Bks]:
    """The BKS tables that apply to instance files in ``folder`` (it and its parent)."""
    return load_bks_tables(_bks_folders(Path(folder)))


def _natural_key(name: str) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name))


def _instance_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """Files of the given suffixes in ``folder``; of two twins (``C101.vrp``, ``C101.txt``)
    the one whose suffix comes first wins, so each instance is read once."""
    if not folder.is_dir():
        return []
    chosen: dict[str, Path] = {}
    for suffix in suffixes:
        for path in folder.glob(f"*{suffix}"):
            if path.is_file():
                chosen.setdefault(path.stem.lower(), path)
    return sorted(chosen.values(), key=lambda p: _natural_key(p.stem))


def find_instances(
    data_dir: Path | str,
    suite: str | None = None,
    names: Sequence[str] | None = None,
    fmt: str = "auto",
) -> list[Path]:
    """Instance files of a suite, or of any folder, in natural name order.

    Parameters
    ----------
    data_dir
        The shared benchmark folder (with ``solomon/``, ``homberger/``, ``cvrplib_x/``), a
        suite folder, or any folder that directly holds ``.txt`` / ``.vrp`` files.
    suite
        ``solomon``, ``homberger`` or ``x``: look in that suite's folder under ``data_dir``
        when it exists, else in ``data_dir`` itself.
    names
        Instance names (file stems, case-insensitive) to keep; all when ``None``.
    fmt
        ``auto`` (VRPLIB files when present, else Solomon text), ``vrplib`` or ``txt``.
    """
    if fmt not in _FORMAT_DIRS:
        raise InstanceError(f"unknown format {fmt!r}: use one of {sorted(_FORMAT_DIRS)}")
    root = Path(data_dir)
    if not root.is_dir():
        raise InstanceError(f"data folder {root} does not exist")
    bases = [root]
    if suite is not None:
        if suite not in SUITES:
            raise InstanceError(f"unknown suite {suite!r}: use one of {sorted(SUITES)}")
        bases = [root / sub for sub in SUITES[suite] if (root / sub).is_dir()] or [root]
    files: list[Path] = []
    for folder in (base / sub if sub else base for base in bases for sub in _FORMAT_DIRS[fmt]):
        files = _instance_files(folder, _SUFFIXES[fmt])
        if files:
            break
    if not files:
        where = " or ".join(str(b) for b in bases)
        raise InstanceError(f"no {'/'.join(_SUFFIXES[fmt])} instance files in {where}")
    if names is None:
        return files
    by_name = {p.stem.lower(): p for p in files}
    missing = [n for n in names if n.lower() not in by_name]
    if missing:
        have = ", ".join(p.stem for p in files[:8]) + (", ..." if len(files) > 8 else "")
        raise InstanceError(
            f"instance(s) {', '.join(missing)} not found in {files[0].parent} (have: {have})"
        )
    return [by_name[n.lower()] for n in names]


def read_suite(
    data_dir: Path | str,
    suite: str | None = None,
    names: Sequence[str] | None = None,
    fmt: str = "auto",
) -> list[Instance]:
    """Read every instance :func:`find_instances` selects, with their BKS."""
    paths = find_instances(data_dir, suite, names, fmt)
    table = bks_table_for(paths[0].parent)
    return [read_instance(p, table) for p in paths]


def to_problem(inst: Instance) -> Problem:
    """The instance as a :class:`routing.Problem` that minimises total distance only.

    One vehicle type, ``cost_per_km = 0.1`` so that one matrix unit ("metre") costs one
    objective unit after the engine's x10 000 cost scaling; no fixed or hourly cost, so the
    number of vehicles is free up to the fleet size, as in the distance-only BKS. The matrix
    is given explicitly, so coordinates only need to be valid degrees: they are mapped to a
    small fake area near (0, 0). Stop ids are the customer numbers as strings (``"1"``..).
    """
    span = float(np.abs(inst.coords).max()) if inst.coords.size else 0.0
    deg = max(1000.0, span / 80.0)  # keeps |lat|, |lon| <= 80 for any coordinate range
    locations = tuple(
        Location(id="depot" if i == 0 else f"c{i}", lat=float(y) / deg, lon=float(x) / deg)
        for i, (x, y) in enumerate(inst.coords)
    )
    windowed = inst.kind is Kind.VRPTW
    stops = tuple(
        Stop(
            id=str(i),
            location=i,
            service=int(inst.service[i]),
            windows=(TimeWindow(int(inst.ready[i]), int(inst.due[i])),) if windowed else (),
            demand=(int(inst.demand[i]),),
        )
        for i in range(1, inst.customers + 1)
    )
    vtype = VehicleType(
        name="truck",
        capacity=(inst.capacity,),
        profile="car",
        fixed_cost=0.0,
        cost_per_km=0.1,
        cost_per_hour=0.0,
    )
    shift = TimeWindow(int(inst.ready[0]), int(inst.due[0]))
    width = len(str(inst.fleet))
    vehicles = tuple(
        Vehicle(id=f"v{k:0{width}d}", type=vtype.name, start=0, end=0, shift=shift)
        for k in range(inst.fleet)
    )
    return Problem(
        locations=locations,
        matrices={"car": TravelMatrix(distances=inst.matrix, durations=inst.matrix)},
        stops=stops,
        vehicle_types=(vtype,),
        vehicles=vehicles,
        dimensions=("demand",),
    )
