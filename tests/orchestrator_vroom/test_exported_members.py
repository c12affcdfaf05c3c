"""The package's ``__all__`` lists exactly its public names, and each module's, private ones
included, lists names that exist."""

from __future__ import annotations

import pkgutil

import pytest

import orchestrator.vroom
from tests.exports import listing_problems, unlisted_public_names

MODULES = sorted(
    f"orchestrator.vroom.{m.name}" for m in pkgutil.iter_modules(orchestrator.vroom.__path__)
)
"""Every module of the package, private ones included (found, not listed)."""


def test_package_exports_what_it_lists() -> None:
    assert not unlisted_public_names(orchestrator.vroom)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    assert not listing_problems(module)
