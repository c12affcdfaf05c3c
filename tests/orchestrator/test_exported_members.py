"""The package's ``__all__`` lists exactly its public names, and each module's too."""

from __future__ import annotations

import importlib
import inspect

import pytest

import orchestrator

MODULES = [
    "orchestrator.catalog",
    "orchestrator.concierge",
    "orchestrator.concierge_days",
    "orchestrator.concierge_profiles",
    "orchestrator.errors",
    "orchestrator.events",
    "orchestrator.jobs",
    "orchestrator.keys",
    "orchestrator.learning",
    "orchestrator.mapping",
    "orchestrator.models",
    "orchestrator.options",
    "orchestrator.orders",
    "orchestrator.planning",
    "orchestrator.queries",
    "orchestrator.schedule",
    "orchestrator.settings",
    "orchestrator.store",
    "orchestrator.travel",
]


def test_package_exports_what_it_lists() -> None:
    public = {
        name
        for name, value in vars(orchestrator).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(orchestrator.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing
    assert len(set(mod.__all__)) == len(mod.__all__), "a name is listed twice"
