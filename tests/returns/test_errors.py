"""One error tree: every input error is a ReturnsError and a ValueError with a field path."""

from __future__ import annotations

import pytest

from returns import InvalidReturnInput, MissingHistory, ReturnsError, UnknownSku


@pytest.mark.parametrize("cls", [InvalidReturnInput, UnknownSku, MissingHistory])
def test_every_input_error_is_a_returns_error_and_a_value_error(cls: type) -> None:
    assert issubclass(cls, ReturnsError)
    assert issubclass(cls, ValueError)


def test_the_message_starts_with_the_field_path() -> None:
    err = InvalidReturnInput(("destinations", 2, "stock"), "-1 is negative — give 0 or more")
    assert err.field == ("destinations", 2, "stock")
    assert str(err) == "destinations.2.stock: -1 is negative — give 0 or more"


def test_a_single_name_is_a_path_of_one() -> None:
    assert InvalidReturnInput("price", "bad").field == ("price",)


def test_within_prefixes_the_path_and_keeps_the_class() -> None:
    err = UnknownSku("sku", "not in the catalogue").within("item")
    assert isinstance(err, UnknownSku)
    assert err.field == ("item", "sku")
    assert err.message == "not in the catalogue"
