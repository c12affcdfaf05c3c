"""Returns in the store: started by the customer, sent where they sell again (the :mod:`returns`
engine decides), collected by the delivery routes, and seen as flows per store.

* :mod:`~orchestrator.returns_flow.catalog` — what the returns engine reads: products, stores,
  their daily sales and stock;
* :mod:`~orchestrator.returns_flow.flow` — a return's life: start, destination, pickup, flows.
"""
