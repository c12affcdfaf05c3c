"""The package's ``__all__`` lists exactly its public names, and each module's too."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import returns

MODULES = [
    "returns.decision",
    "returns.errors",
    "returns.model",
    "returns.resale",
    "returns.transfer",
]


def test_package_exports_what_it_lists() -> None:
    public = {
        name
        for name, value in vars(returns).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(returns.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing
    assert len(set(mod.__all__)) == len(mod.__all__), "a name is listed twice"


def test_every_module_is_checked() -> None:
    folder = Path(inspect.getfile(returns)).parent
    found = {f"returns.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert found == set(MODULES)
