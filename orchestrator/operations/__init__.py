"""The day as it runs: routes dispatched, stops delivered or failed, and orders on their way
redirected to where the customer is ("find me at the café").

* :mod:`~orchestrator.operations.dispatch` — dispatch a route, record a stop's outcome;
* :mod:`~orchestrator.operations.whereabouts` — an order on its way moved to another place,
  its route re-optimised from where the vehicle is;
* :mod:`~orchestrator.operations.promise_kpis` — a depot's day measured: confirmed promises
  kept, minutes late, notices before a miss, cost per parcel per vehicle type.
* :mod:`~orchestrator.operations.progress` — a dispatched route projected from what is known
  (outcomes, a driver's report); a promise it will likely miss moved to a vehicle that keeps
  it, or announced to the customer before the window, with the choices left.

Operations sit above planning (they change a stored plan) and the concierge (an outcome is
evidence about the customer).
"""
