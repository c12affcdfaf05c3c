"""Shared checks of what packages and modules declare in ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType


def modules_of(package: ModuleType, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Every public module below ``package``, sub-packages included (found by walking, not
    listed, so a new one cannot be missed); names starting with one of ``skip`` are left out."""
    return sorted(
        m.name
        for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        if not any(part.startswith("_") for part in m.name.split("."))
        and not m.name.startswith(skip)
    )


def unlisted_public_names(package: ModuleType) -> set[str]:
    """Names a package holds, not starting with ``_`` and not modules, that its ``__all__``
    does not list — and names it lists that it does not hold (symmetric difference)."""
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    return public ^ set(getattr(package, "__all__", ()))


def listing_problems(module: str) -> list[str]:
    """What is wrong with a module's ``__all__``: missing (a package's ``__init__`` may leave it
    out), names it lists that do not exist, and names listed twice."""
    mod = importlib.import_module(module)
    if not hasattr(mod, "__all__") and not hasattr(mod, "__path__"):
        return ["it has no __all__ — list its public names"]
    listed = list(getattr(mod, "__all__", ()))
    problems = [f"{name} does not exist" for name in listed if not hasattr(mod, name)]
    problems += [f"{name} is listed twice" for name in set(listed) if listed.count(name) > 1]
    return problems
