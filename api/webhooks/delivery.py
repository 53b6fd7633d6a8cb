"""Webhook delivery: HMAC-SHA256 signed POSTs, retried with exponential backoff, every delivery recorded.

The body is horcrux's event document ``{"event_type", "timestamp", "source", "data"}`` (compact
JSON); ``X-Horcrux-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` signs exactly those bytes,
``X-Horcrux-Event`` and ``X-Horcrux-Delivery`` name the event and the delivery. A non-2xx answer or
a transport error is retried after ``base_delay * 2**n`` seconds (1 s, 2 s, 4 s by default: horcrux's
schedule), up to ``max_retries`` times. Deliveries are kept in memory, newest first, bounded per
webhook (this replica's; they do not survive a restart).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from daytwo.operator.shared.signing import SIGNATURE_HEADER, event_body, sign, verify
from daytwo.operator.shared.times import format_time

__all__ = [
    "SIGNATURE_HEADER",
    "Deliverer",
    "Delivery",
    "Target",
    "backoff_delays",
    "event_body",
    "failure",
    "sign",
    "verify",
]

log = logging.getLogger("daytwo.api.webhooks")

MAX_RECORDED = 100


def _now() -> str:
    return format_time(datetime.now(UTC))


def failure(status: int | None) -> str:
    """What a failed delivery reports: ``delivery failed`` and the status class (``HTTP 5xx``) or
    ``no HTTP response``; never the low-level error (a port-scan oracle: refused vs timed out)."""
    return f"delivery failed: HTTP {status // 100}xx" if status is not None else "delivery failed: no HTTP response"


def backoff_delays(max_retries: int, base_delay: float) -> list[float]:
    """The waits before each retry: ``base_delay * 2**n`` for n = 0 .. max_retries-1."""
    return [base_delay * 2**attempt for attempt in range(max_retries)]


@dataclass(frozen=True)
class Target:
    """Where and how to deliver: the webhook's id, URL and signing secret (None: unsigned)."""

    webhook_id: str
    url: str
    secret: str | None


@dataclass
class Delivery:
    """One delivery as horcrux lists it (plus the error and the timing)."""

    id: str
    webhook_id: str
    event: str
    status: str  # pending | success | failed
    response_code: int | None
    delivered_at: str | None
    retries: int
    response_time_ms: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape."""
        return asdict(self)


class Deliverer:
    """Sends events to targets on a small thread pool and remembers the outcome of each."""

    def __init__(
        self,
        *,
        max_retries: int = 3,
        base_delay: float = 1.0,
        timeout: float = 10.0,
        workers: int = 4,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.timeout = timeout
        self._closed = threading.Event()
        #: the wait between retries; by default cut short by :meth:`close`
        self._sleep = sleep or self._closed.wait
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._records: dict[str, deque[Delivery]] = {}
        self._lock = threading.Lock()

    def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        """This webhook's deliveries, newest first."""
        with self._lock:
            return [d.as_dict() for d in self._records.get(webhook_id, ())]

    def forget(self, webhook_id: str) -> None:
        """Drop the records of a deleted webhook."""
        with self._lock:
            self._records.pop(webhook_id, None)

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self._records.setdefault(delivery.webhook_id, deque(maxlen=MAX_RECORDED)).appendleft(delivery)

    def refused(self, webhook_id: str, event: str, reason: str) -> Delivery:
        """Record a delivery that could not be attempted (e.g. the signing secret is unreadable)."""
        delivery = Delivery(
            f"delivery-{uuid.uuid4().hex[:12]}", webhook_id, event, "failed", None, None, 0, None, reason
        )
        self._record(delivery)
        return delivery

    def submit(self, target: Target, event: str, data: dict[str, Any]) -> Future[Delivery]:
        """Deliver in the background (retries included); the future yields the final record."""
        delivery = Delivery(f"delivery-{uuid.uuid4().hex[:12]}", target.webhook_id, event, "pending", None, None, 0)
        self._record(delivery)
        return self._pool.submit(self.deliver, target, event, data, delivery)

    def deliver(
        self,
        target: Target,
        event: str,
        data: dict[str, Any],
        delivery: Delivery | None = None,
        retries: int | None = None,
    ) -> Delivery:
        """Deliver now, in this thread: try, then retry with backoff; returns the (recorded) outcome."""
        max_retries = self.max_retries if retries is None else retries
        if delivery is None:
            delivery = Delivery(f"delivery-{uuid.uuid4().hex[:12]}", target.webhook_id, event, "pending", None, None, 0)
            self._record(delivery)
        body = event_body(event, data)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "daytwo-webhooks/1",
            "X-Horcrux-Event": event,
            "X-Horcrux-Delivery": delivery.id,
        }
        if target.secret:
            headers[SIGNATURE_HEADER] = sign(target.secret, body)
        delays = backoff_delays(max_retries, self.base_delay)
        for attempt in range(max_retries + 1):
            started = time.monotonic()
            try:
                with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                    response = client.post(target.url, content=body, headers=headers)
                delivery.response_code = response.status_code
                delivery.error = None if response.is_success else failure(response.status_code)
                delivery.response_time_ms = int((time.monotonic() - started) * 1000)
            except httpx.HTTPError as error:
                # refused, reset, timed out, TLS: one answer and no timing, else callers could map a network
                log.info("webhook %s: %s not delivered (%s)", target.webhook_id, event, type(error).__name__)
                delivery.response_code = None
                delivery.response_time_ms = None
                delivery.error = failure(None)
            delivery.retries = attempt
            if delivery.error is None:
                delivery.status, delivery.delivered_at = "success", _now()
                return delivery
            if attempt < max_retries:
                self._sleep(delays[attempt])
                if self._closed.is_set():
                    break  # shutting down: no further retries
        delivery.status = "failed"
        log.warning(
            "webhook %s: %s not delivered after %d retries (%s)", target.webhook_id, event, max_retries, delivery.error
        )
        return delivery

    def close(self) -> None:
        """Stop: queued deliveries are cancelled, running ones end after their current attempt (at most
        ``timeout`` seconds, no further retries), and the pool's threads are gone when this returns."""
        self._closed.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
