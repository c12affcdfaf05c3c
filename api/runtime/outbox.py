"""The webhook delivery worker: a thread of each server process posting the store's outbox.

:class:`OutboxWorker` is started and stopped by the app's lifespan (:func:`api.app.create_app`).
Every round it claims the rows due now (:func:`orchestrator.notifications.delivery.claim_due`),
at most ``LASTMILE_WEBHOOK_SENDERS`` at a time, posts them in parallel on a small thread pool,
records each answer (:func:`~orchestrator.notifications.delivery.settle`) and goes on while
rows are due; then it naps until the earliest pending row is due, at most
``LASTMILE_WEBHOOK_POLL_S``. It never runs in a request: a slow receiver delays only other
webhooks. Every process of ``lastmile serve --workers N`` runs one; their claims (a lease per
row) keep two from posting the same row at once, and a process killed mid-post leaves its
rows to be posted again, with the same id, once their lease runs out.

:class:`HttpSender` posts with the standard library's :mod:`http.client`: one connection per
attempt, no proxy from the environment, no redirect followed, the answer's body read no
further than 64 KiB.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from orchestrator.models.columns import utcnow
from orchestrator.notifications.delivery import (
    Attempt,
    RetryPolicy,
    Sender,
    claim_due,
    next_due,
    send,
    settle,
)
from orchestrator.settings import Settings

__all__ = ["HttpSender", "OutboxWorker", "retry_policy"]

_log = logging.getLogger(__name__)

_MIN_NAP_S = 0.02
"""Shortest nap, seconds, so that a row due now but claimed elsewhere never spins a loop."""
_ANSWER_BYTES = 65_536
"""Most of an answer's body read (and thrown away), so a connection closes cleanly."""


def retry_policy(settings: Settings) -> RetryPolicy:
    """The delivery policy the ``LASTMILE_WEBHOOK_*`` settings describe."""
    return RetryPolicy(
        backoff_s=settings.webhook_backoff_s,
        backoff_max_s=settings.webhook_backoff_max_s,
        max_attempts=settings.webhook_max_attempts,
        max_age_s=settings.webhook_max_age_s,
        timeout_s=settings.webhook_timeout_s,
    )


class HttpSender:
    """Posts a body over HTTP or HTTPS (:class:`~orchestrator.notifications.delivery.Sender`)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        """Post ``body`` to ``url``; the answer's status. Raises :class:`OSError`."""
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname or "", parts.port, timeout=timeout_s)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request("POST", path, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(_ANSWER_BYTES)
            return response.status
        except http.client.HTTPException as exc:
            raise OSError(f"bad answer: {type(exc).__name__}") from exc
        finally:
            connection.close()


class OutboxWorker:
    """A thread that delivers the outbox of one store (see the module's docstring).

    Parameters
    ----------
    engine
        The store.
    settings
        The ``LASTMILE_WEBHOOK_*`` settings: the retry policy, the nap and the parallel posts
        (0 starts nothing).
    sender
        The HTTP client (default :class:`HttpSender`).
    """

    def __init__(self, engine: Engine, settings: Settings, *, sender: Sender | None = None):
        self.engine = engine
        self.policy = retry_policy(settings)
        self.poll_s = settings.webhook_poll_s
        self.senders = settings.webhook_senders
        self.sender: Sender = sender or HttpSender()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._rng = random.Random()

    def start(self) -> None:
        """Start delivering (once; nothing with ``LASTMILE_WEBHOOK_SENDERS=0``)."""
        if self._thread is not None or self.senders == 0:
            return
        self._pool = ThreadPoolExecutor(self.senders, thread_name_prefix="lastmile-webhook")
        self._thread = threading.Thread(target=self._run, name="lastmile-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due rows now rather than after the nap."""
        self._wake.set()

    def shutdown(self, timeout_s: float | None = None) -> None:
        """Stop after the posts under way (each ends within the attempt timeout); rows not
        yet posted stay in the outbox for the next start."""
        self._stop.set()
        self._wake.set()
        wait = self.policy.timeout_s + 5.0 if timeout_s is None else timeout_s
        if self._thread is not None:
            self._thread.join(wait)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver_round()
            except Exception:  # the store is down or busy: try again after a nap
                _log.exception("webhook delivery round failed")
                busy = 0
            if busy:
                continue
            self._wake.wait(self._nap_s())
            self._wake.clear()

    def deliver_round(self) -> int:
        """Claim the rows due now (one per sender), post them in parallel, record the
        answers; how many were posted."""
        attempts = claim_due(
            self.engine, now=utcnow(), limit=self.senders, lease_s=self.policy.lease_s
        )
        if not attempts:
            return 0
        assert self._pool is not None
        for _ in self._pool.map(self._attempt, attempts):
            pass
        return len(attempts)

    def _attempt(self, attempt: Attempt) -> None:
        answer = send(attempt, self.sender, timeout_s=self.policy.timeout_s, now=utcnow())
        settle(self.engine, attempt, answer, self.policy, now=utcnow(), rng=self._rng)

    def _nap_s(self) -> float:
        """Seconds until the earliest pending row is due, at most the poll interval."""
        try:
            now = utcnow()
            due = next_due(self.engine, now=now)
        except Exception:
            return self.poll_s
        if due is None:
            return self.poll_s
        return max(_MIN_NAP_S, min(self.poll_s, (due - now) / timedelta(seconds=1)))
