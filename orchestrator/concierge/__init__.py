"""The concierge: what each customer is offered, and what their choices teach.

* :mod:`~orchestrator.concierge.options` — the delivery options a customer sees: enumerated,
  priced, scored for them and explained (pure: no store);
* :mod:`~orchestrator.concierge.offers` — an order's options from the store, holds on the one
  chosen, and its confirmation;
* :mod:`~orchestrator.concierge.profiles` — a customer's profile: see, correct, export, delete;
* :mod:`~orchestrator.concierge.schedule` — where a customer is, by weekday and time of day;
* :mod:`~orchestrator.concierge.learning` — what choices and deliveries teach, per slot;
* :mod:`~orchestrator.concierge.consolidation` — eco drops: an order deferred to the day its
  neighbours are served.
"""
