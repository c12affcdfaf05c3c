"""The package's ``__all__`` lists exactly its public names, and each module's lists names that
exist — every module of every room."""

from __future__ import annotations

import pytest

import orchestrator
from tests.exports import listing_problems, modules_of, unlisted_public_names

MODULES = modules_of(orchestrator, skip=("orchestrator.store.migrations",))
"""Every public module of the package and its rooms."""


def test_package_exports_what_it_lists() -> None:
    assert not unlisted_public_names(orchestrator)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    assert not listing_problems(module)
