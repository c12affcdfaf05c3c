"""Planning a depot's day: from orders to a stored plan, and keeping it while the day runs.

* :mod:`~orchestrator.planning.problem` — the one place planning input becomes a
  :class:`routing.Problem` (stop and vehicle ids, windows, service times);
* :mod:`~orchestrator.planning.travel` — where travel times come from;
* :mod:`~orchestrator.planning.inputs` — what a depot, place, order, fleet and pickup mean to
  the planner (plain values); :mod:`~orchestrator.planning.rows` makes them from the store's rows;
* :mod:`~orchestrator.planning.service` — the one service-time rule;
* :mod:`~orchestrator.planning.plans` — plan a day, re-plan it, the current plan and its routes
  (a worse plan kept aside unless the planner chooses it);
* :mod:`~orchestrator.planning.calendar` — which days of a depot have open orders or pickups;
* :mod:`~orchestrator.planning.tentative` — a day's tentative plan, which delivery and pickup
  options are checked against;
* :mod:`~orchestrator.planning.day_plan` — a day's timeline ready for insertion checks;
* :mod:`~orchestrator.planning.board_view` — the board's read-only views of a day.
* :mod:`~orchestrator.planning.spread` — how far actual times stray from planned ones, and the
  buffer promises are planned on; :mod:`~orchestrator.planning.spread_store` keeps a depot's
  learned spread in the store, learns it from outcomes and gives the buffer its days use.

The day as it runs (dispatch, outcomes, redirects) is :mod:`orchestrator.operations`.
"""
