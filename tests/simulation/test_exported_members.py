"""The twin's and the cities' ``__all__`` list exactly their public names, and each module's
lists names that exist."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import simulation.cities
import simulation.twin

PACKAGES = (simulation.cities, simulation.twin)

MODULES = sorted(
    f"{package.__name__}.{m.name}"
    for package in PACKAGES
    for m in pkgutil.iter_modules(package.__path__)
)
"""Every module of the two packages (found, not listed, so a new one cannot be missed)."""


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_package_exports_what_it_lists(package: ModuleType) -> None:
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(package.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing
    assert len(set(mod.__all__)) == len(mod.__all__), "a name is listed twice"
