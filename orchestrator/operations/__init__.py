"""The day as it runs: routes dispatched, stops delivered or failed, and orders on their way
redirected to where the customer is ("find me at the café").

* :mod:`~orchestrator.operations.dispatch` — dispatch a route, record a stop's outcome;
* :mod:`~orchestrator.operations.whereabouts` — an order on its way moved to another place,
  its route re-optimised from where the vehicle is;
* :mod:`~orchestrator.operations.promise_kpis` — a depot's day measured: confirmed promises
  kept, minutes late, notices before a miss, cost per parcel per vehicle type.

Operations sit above planning (they change a stored plan) and the concierge (an outcome is
evidence about the customer).
"""
