"""Planning a depot's day: from orders to a stored plan, and keeping it while the day runs.

* :mod:`~orchestrator.planning.problem` — the one place planning input becomes a
  :class:`routing.Problem` (stop and vehicle ids, windows, service times);
* :mod:`~orchestrator.planning.travel` — where travel times come from;
* :mod:`~orchestrator.planning.plans` — plan a day, re-plan it, dispatch routes, record outcomes;
* :mod:`~orchestrator.planning.tentative` — a day's tentative plan, which delivery and pickup
  options are checked against;
* :mod:`~orchestrator.planning.whereabouts` — "find me at the café": an order on its way
  redirected, its route re-optimised from where the vehicle is.
"""
