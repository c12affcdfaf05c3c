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
