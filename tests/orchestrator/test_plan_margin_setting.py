"""``LASTMILE_PLAN_WORSE_MARGIN_PCT`` says the whole rule it takes part in (issue #17): a new
plan made at another promise confidence than the current one is compared on the orders it
serves only (its cost is not like for like), as ``plans._verdict`` decides — the README's
table and ``serve --help`` are made from this description."""

from __future__ import annotations

from orchestrator.settings import Settings


def test_the_margin_says_a_plan_at_another_confidence_is_compared_on_orders_served() -> None:
    text = Settings.model_fields["plan_worse_margin_pct"].description or ""
    assert "promise_confidence" in text
    assert "orders served only" in text
    assert "make_current 'always'" in text  # the rest of the rule is still said
