"""The layering rules of the guide, checked on the source: arrows point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("routing", "returns", "orchestrator", "simulation", "api")

# What each package may import among the project's own packages.
ALLOWED = {
    "routing": set(),
    "returns": set(),
    "orchestrator": {"routing", "returns"},
    "simulation": {"routing", "returns", "orchestrator"},
    "api": {"routing", "returns", "orchestrator", "simulation"},
}
# Third-party modules that only one module of the project may import.
OWNERS = {"ortools": {"routing/_ortools.py"}, "pyvrp": {"routing/_pyvrp.py"}}
# The engines stay free of the web layer and the database.
ENGINE_FORBIDDEN = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "uvicorn", "alembic"}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module the file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_it_may(package: str) -> None:
    for path in sources(package):
        own = imported_roots(path) & set(PACKAGES) - {package}
        assert own <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {sorted(own)}"


@pytest.mark.parametrize("package", ["routing", "returns"])
def test_engines_import_no_web_or_database(package: str) -> None:
    for path in sources(package):
        bad = imported_roots(path) & ENGINE_FORBIDDEN
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize(("module", "owners"), sorted(OWNERS.items()))
def test_one_module_owns_each_solver(module: str, owners: set[str]) -> None:
    importers = {
        str(path.relative_to(ROOT))
        for package in (*PACKAGES, "benchmarks")
        for path in sources(package)
        if module in imported_roots(path)
    }
    # The benchmark runs PyVRP itself for the side-by-side comparison.
    importers.discard("benchmarks/routing.py")
    assert importers == owners


# The orchestrator's rooms and the rooms each may import (besides itself and the shared
# modules errors, settings and _validation). The arrows form no cycle: a room on the left
# never needs one further right. See docs/architecture.md.
ROOMS = {
    "models": set(),
    "sharing": set(),
    "notifications": {"models"},
    "store": {"models", "notifications"},
    "access": {"models", "store"},
    "intake": {"models", "store"},
    "planning": {"models", "store", "intake", "sharing"},
    "concierge": {"models", "store", "intake", "planning"},
    "returns_flow": {"models", "store", "intake", "planning"},
    "operations": {"models", "store", "intake", "planning", "concierge"},
    "commuting": {"models", "store", "intake", "planning", "concierge", "operations"},
    "jobs": {"models", "store", "planning"},
    "vroom": set(),
}


def imported_modules(path: Path) -> set[str]:
    """Dotted names of every module the file imports (``from a.b import c`` gives ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_orchestrator_module_lives_in_a_room() -> None:
    loose = {
        p.name
        for p in (ROOT / "orchestrator").glob("*.py")
        if p.name not in {"__init__.py", "errors.py", "settings.py", "_validation.py"}
    }
    rooms = {p.name for p in (ROOT / "orchestrator").iterdir() if (p / "__init__.py").exists()}
    assert not loose, f"put {sorted(loose)} in a room of orchestrator/"
    assert rooms == set(ROOMS), f"list the rooms {sorted(rooms ^ set(ROOMS))} in ROOMS"


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_a_room_imports_only_the_rooms_below_it(room: str) -> None:
    for path in sorted((ROOT / "orchestrator" / room).rglob("*.py")):
        used = {
            name.split(".")[1]
            for name in imported_modules(path)
            if name.startswith("orchestrator.") and name.split(".")[1] in ROOMS
        }
        extra = used - ROOMS[room] - {room}
        assert not extra, f"{path.relative_to(ROOT)} imports the rooms {sorted(extra)}"


def test_the_twin_builds_planning_input_without_table_models() -> None:
    """The simulator hands the planner plain values (orchestrator.planning.inputs); only the
    seeding modules (seed_*.py), which write a simulated day into a real store, touch it."""
    for path in sources("simulation"):
        if path.name.startswith("seed_"):
            continue
        used = {
            name
            for name in imported_modules(path)
            if name.startswith("orchestrator.models") or name.split(".")[0] in ENGINE_FORBIDDEN
        }
        assert not used, f"{path.relative_to(ROOT)} imports {sorted(used)}"
