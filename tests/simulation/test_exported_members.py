"""The twin's and the cities' ``__all__`` list exactly their public names, and each module's
lists names that exist."""

from __future__ import annotations

from types import ModuleType

import pytest

import simulation.cities
import simulation.twin
from tests.exports import listing_problems, modules_of, unlisted_public_names

PACKAGES = (simulation.cities, simulation.twin)

MODULES = [name for package in PACKAGES for name in modules_of(package)]
"""Every module of the two packages."""


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_package_exports_what_it_lists(package: ModuleType) -> None:
    assert not unlisted_public_names(package)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    assert not listing_problems(module)
