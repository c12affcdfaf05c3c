"""The package's ``__all__`` lists exactly its public names, and each module's too."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import orchestrator.vroom

MODULES = sorted(
    f"orchestrator.vroom.{m.name}" for m in pkgutil.iter_modules(orchestrator.vroom.__path__)
)
"""Every module of the package, private ones included (found, not listed)."""


def test_package_exports_what_it_lists() -> None:
    public = {
        name
        for name, value in vars(orchestrator.vroom).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(orchestrator.vroom.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing
    assert len(set(mod.__all__)) == len(mod.__all__), "a name is listed twice"
