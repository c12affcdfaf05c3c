"""The package's ``__all__`` lists exactly its public names, and each module's too."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import returns
from tests.exports import listing_problems, unlisted_public_names

MODULES = [
    "returns.decision",
    "returns.errors",
    "returns.model",
    "returns.resale",
    "returns.transfer",
]


def test_package_exports_what_it_lists() -> None:
    assert not unlisted_public_names(returns)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    assert not listing_problems(module)


def test_every_module_is_checked() -> None:
    folder = Path(inspect.getfile(returns)).parent
    found = {f"returns.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert found == set(MODULES)
