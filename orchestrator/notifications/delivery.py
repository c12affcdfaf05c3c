"""Delivering the outbox: claim due rows, post each once, record the answer, retry with
exponential back-off, give up after the most attempts or the longest age.

At least once, never twice at the same time: a worker *claims* due rows before posting them —
a conditional update that sets a claim token and a lease (``lease_until``) only on rows no
live lease holds — so two workers (threads, or the processes of ``lastmile serve --workers
N``, on SQLite or PostgreSQL) never post the same row at once. The answer is recorded only
by the claim's holder. A worker that dies between posting and recording leaves its lease to
run out (:attr:`RetryPolicy.lease_s`), after which the row is posted again with the same id:
the receiver may see an event twice, always with the same ``Webhook-Id``.

Back-off: after failed attempt *n* the next waits ``backoff_s · 2^(n-1)`` seconds, at most
``backoff_max_s``, times a random factor in ``1 ± jitter`` (5 s, 10 s, 20 s, … by default).
A row is *dead* (kept, with its last error, and never posted again) when its attempts reach
``max_attempts`` or it is older than ``max_age_s`` when an attempt fails.

The HTTP client is a port (:class:`Sender`): the server's adapter lives in
:mod:`api.runtime.outbox`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from orchestrator.models import DeliveryStatus, Webhook, WebhookDelivery
from orchestrator.models.columns import utcnow
from orchestrator.notifications.signing import sign

__all__ = [
    "Answer",
    "Attempt",
    "RetryPolicy",
    "Sender",
    "claim_due",
    "deliver_due",
    "headers_for",
    "next_due",
    "send",
    "settle",
]

_ERROR_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How deliveries are retried (the ``LASTMILE_WEBHOOK_*`` settings).

    Parameters
    ----------
    backoff_s
        Wait after the first failed attempt, seconds; doubled after each further one.
    backoff_max_s
        Longest wait between two attempts, seconds.
    max_attempts
        Attempts at most; a row failing the last is dead.
    max_age_s
        Seconds after its event a row failing an attempt is dead.
    timeout_s
        Seconds one attempt may take (connecting, sending and the answer's head).
    jitter
        Share by which each wait is randomly lengthened or shortened (0 to 1).
    """

    backoff_s: float = 5.0
    backoff_max_s: float = 3_600.0
    max_attempts: int = 20
    max_age_s: float = 3 * 86_400.0
    timeout_s: float = 10.0
    jitter: float = 0.2

    @property
    def lease_s(self) -> float:
        """Seconds a claimed row is left to its worker: two attempts' time and five seconds,
        so that only a worker that died loses its rows."""
        return 2 * self.timeout_s + 5.0

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after ``attempts`` (≥ 1) failed attempts."""
        base = min(self.backoff_s * 2.0 ** min(attempts - 1, 60), self.backoff_max_s)
        return base * rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claimed row, ready to be posted."""

    row_id: int
    claim: str
    url: str
    secret: str
    event_id: str
    body: str
    attempts: int
    """Attempts including this one."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    """What an attempt came to: the receiver's HTTP status, or why there was none."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Delivered: the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class Sender(Protocol):
    """Posts one body (the port to the outside world)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        """Post ``body`` to ``url`` with ``headers``; the answer's HTTP status. Redirects are
        not followed. Raises :class:`OSError` (a timeout included) when there is none."""
        ...


def headers_for(attempt: Attempt, now: datetime) -> dict[str, str]:
    """The headers of an attempt: ``Content-Type``, ``Webhook-Id`` (the event's id),
    ``Webhook-Timestamp`` (the attempt's Unix time, seconds) and ``Webhook-Signature``
    (``sha256=`` and the hex HMAC-SHA256 of the body under the subscription's secret)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "lastmile-webhooks/0.1",
        "Webhook-Id": attempt.event_id,
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": sign(attempt.secret, attempt.body.encode("utf-8")),
    }


def claim_due(
    engine: Engine, *, now: datetime | None = None, limit: int = 4, lease_s: float = 25.0
) -> list[Attempt]:
    """Claim up to ``limit`` rows due at ``now`` (oldest due first) for ``lease_s`` seconds,
    counting the attempt; the rows this call holds (none when another worker took them).

    Looking costs a read; only when something is due is the store written to."""
    now = now or utcnow()
    lease_free = sa.or_(
        col(WebhookDelivery.lease_until).is_(None), col(WebhookDelivery.lease_until) < now
    )
    due = sa.and_(
        col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        col(WebhookDelivery.next_attempt_at) <= now,
        lease_free,
    )
    with Session(engine) as session:
        ids = session.exec(
            select(WebhookDelivery.id)
            .where(due)
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
        ).all()
        if not ids:
            return []
        token = uuid.uuid4().hex
        session.execute(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(ids), due)
            .values(
                claim=token,
                lease_until=now + timedelta(seconds=lease_s),
                attempts=col(WebhookDelivery.attempts) + 1,
            )
        )
        session.commit()
        rows = session.exec(
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, col(Webhook.id) == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.claim == token)
            .order_by(col(WebhookDelivery.id))
        ).all()
        return [
            Attempt(
                row_id=row.id or 0,
                claim=token,
                url=url,
                secret=secret,
                event_id=row.event_id,
                body=row.body,
                attempts=row.attempts,
                created_at=row.created_at,
            )
            for row, url, secret in rows
        ]


def send(attempt: Attempt, sender: Sender, *, timeout_s: float, now: datetime) -> Answer:
    """Post the attempt's body once; the answer (never raises for the receiver's faults)."""
    try:
        status = sender.post(
            attempt.url, attempt.body.encode("utf-8"), headers_for(attempt, now), timeout_s
        )
    except TimeoutError:
        return Answer(None, f"no answer within {timeout_s:g} s")
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Answer(None, f"could not post: {reason}"[:_ERROR_CHARS])
    if 200 <= status < 300:
        return Answer(status)
    if 300 <= status < 400:
        return Answer(
            status, f"HTTP {status}: redirects are not followed — subscribe the final URL"
        )
    return Answer(status, f"HTTP {status} from the receiver")


def settle(
    engine: Engine,
    attempt: Attempt,
    answer: Answer,
    policy: RetryPolicy,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> DeliveryStatus | None:
    """Record an attempt's answer and release the claim: delivered, due again after the
    back-off, or dead. ``None`` when the row is gone (its subscription was deleted) or its
    claim was lost (the lease ran out and another worker took it)."""
    now = now or utcnow()
    values: dict[str, object] = {"claim": None, "lease_until": None, "last_status": answer.status}
    if answer.ok:
        status = DeliveryStatus.DELIVERED
        values.update(status=status, delivered_at=now, last_error=None)
    else:
        too_old = (now - attempt.created_at).total_seconds() >= policy.max_age_s
        if attempt.attempts >= policy.max_attempts or too_old:
            status = DeliveryStatus.DEAD
        else:
            status = DeliveryStatus.PENDING
            delay = policy.delay_s(attempt.attempts, rng or random.Random())
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        values.update(status=status, last_error=(answer.error or "failed")[:_ERROR_CHARS])
    with Session(engine) as session:
        result = session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == attempt.row_id,
                col(WebhookDelivery.claim) == attempt.claim,
            )
            .values(**values)
        )
        session.commit()
    return status if result.rowcount else None  # type: ignore[attr-defined]  # a CursorResult


def next_due(engine: Engine, *, now: datetime | None = None) -> datetime | None:
    """When a pending row is next due for this worker (``None``: nothing pending), for its
    nap: the earliest ``next_attempt_at`` of the rows no live lease holds, or the earliest
    end of a lease (its worker may have died)."""
    now = now or utcnow()
    pending = col(WebhookDelivery.status) == DeliveryStatus.PENDING
    lease = col(WebhookDelivery.lease_until)
    with Session(engine) as session:
        free = session.exec(
            select(sa.func.min(WebhookDelivery.next_attempt_at)).where(
                pending, sa.or_(lease.is_(None), lease < now)
            )
        ).first()
        leased = session.exec(
            select(sa.func.min(WebhookDelivery.lease_until)).where(pending, lease >= now)
        ).first()
    times = [t for t in (free, leased) if t is not None]
    return min(times) if times else None


def deliver_due(
    engine: Engine,
    sender: Sender,
    policy: RetryPolicy,
    *,
    now: datetime | None = None,
    limit: int = 100,
    rng: random.Random | None = None,
) -> int:
    """Post every row due at ``now`` (up to ``limit``), one after another; how many were
    attempted. The server's worker (:mod:`api.runtime.outbox`) does the same in parallel."""
    now = now or utcnow()
    attempts = claim_due(engine, now=now, limit=limit, lease_s=policy.lease_s)
    for attempt in attempts:
        answer = send(attempt, sender, timeout_s=policy.timeout_s, now=utcnow())
        settle(engine, attempt, answer, policy, now=utcnow(), rng=rng)
    return len(attempts)
