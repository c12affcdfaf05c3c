"""Notifications: webhooks a retailer subscribes to, written to a durable outbox in the
transaction of the change they tell about, signed, and delivered at least once with retries.

* :mod:`~orchestrator.notifications.subscriptions` — subscriptions and their secrets;
* :mod:`~orchestrator.notifications.payloads` — which order event becomes which webhook
  event, and the exact body of each;
* :mod:`~orchestrator.notifications.signing` — HMAC-SHA256 over the body;
* :mod:`~orchestrator.notifications.outbox` — the rows written beside an order event
  (:func:`orchestrator.store.events.record` calls :func:`~orchestrator.notifications.outbox.
  enqueue`), and the recent ones of a subscription;
* :mod:`~orchestrator.notifications.delivery` — claiming due rows, posting, back-off, dead
  rows.

The room sits below the store (it imports only the models), because the store's event log
writes the outbox; whoever runs the deliveries hands it an engine and an HTTP
:class:`~orchestrator.notifications.delivery.Sender` (:mod:`api.runtime.outbox`).
"""
