"""The error tree: what each error says, and that every error survives pickling (solves run in
worker processes and their errors come back to the caller)."""

from __future__ import annotations

import pickle

import pytest

from orchestrator.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    OrchestratorError,
    PlanningFailed,
)


@pytest.mark.parametrize(
    "error",
    [
        NotFound("order", 7),
        Conflict("plan 3 is superseded, not current — re-plan the day's current plan"),
        InvalidInput(("items", 0, "weight_g"), "must be 0 or more"),
        InvalidInput("depot_id", "no depot 9 — check the depot id"),
        PlanningFailed("planning depot 'HEL1' failed (solver crashed)", plan_id=4),
    ],
)
def test_errors_survive_pickling(error: OrchestratorError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)


def test_invalid_input_names_the_field() -> None:
    err = InvalidInput(("items", 0, "weight_g"), "must be 0 or more")
    assert err.field == ("items", 0, "weight_g") and err.where == "items.0.weight_g"
    assert str(err) == "items.0.weight_g: must be 0 or more"
    assert isinstance(err, ValueError)
    assert str(InvalidInput((), "give a JSON object")) == "give a JSON object"


def test_not_found_says_what_and_which() -> None:
    assert str(NotFound("plan", 12)) == "plan 12 not found — check the id"
