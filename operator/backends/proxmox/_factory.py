"""The one place that turns ProxmoxConnectionParams into a client: cached, rotation-aware, thread-safe."""

from __future__ import annotations

import logging
import threading

from ...errors import InvalidRequest
from ._client import ProxmoxerBackend
from ._params import ProxmoxConnectionParams

__all__ = ["ProxmoxClientFactory"]

log = logging.getLogger(__name__)


class ProxmoxClientFactory:
    """Builds and caches ProxmoxerBackend clients keyed by ``params.fingerprint()``.

    A rotated token (or CA, or timeout) has a new fingerprint, so it gets a new client, and the client
    of the same endpoint and token id it replaces leaves the cache. The replaced client is not closed:
    a worker thread may still be in a call with it; it is cleaned up when the last user drops it.
    All clients of one host:port share one semaphore of ``max_concurrency`` slots, whatever token
    they use: that is the per-endpoint limit.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 4,
        retries: int = 2,
        backoff_seconds: float = 0.2,
        queue_timeout_seconds: float = 60.0,
    ) -> None:
        if max_concurrency < 1:
            raise InvalidRequest(f"max_concurrency must be at least 1, not {max_concurrency}")
        self._max_concurrency = max_concurrency
        self._retries = retries
        self._backoff = backoff_seconds
        self._queue_timeout = queue_timeout_seconds
        self._lock = threading.Lock()
        self._clients: dict[str, ProxmoxerBackend] = {}
        self._limiters: dict[str, threading.BoundedSemaphore] = {}

    def get(self, params: ProxmoxConnectionParams) -> ProxmoxerBackend:
        """The cached client for these params, built on first use."""
        key = params.fingerprint()
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                return client
            limiter = self._limiters.get(params.endpoint)
            if limiter is None:
                limiter = self._limiters[params.endpoint] = threading.BoundedSemaphore(self._max_concurrency)
            client = ProxmoxerBackend(
                params,
                limiter=limiter,
                retries=self._retries,
                backoff_seconds=self._backoff,
                queue_timeout_seconds=self._queue_timeout,
                pool_size=self._max_concurrency,
            )
            for other_key, other in list(self._clients.items()):
                if other.params.endpoint == params.endpoint and other.params.token_id == params.token_id:
                    del self._clients[other_key]
                    log.info(
                        "proxmox client for %s token %s replaced (credentials or settings changed)",
                        other.endpoint,
                        other.params.token_id,
                    )
            self._clients[key] = client
        return client

    def invalidate(self, params: ProxmoxConnectionParams) -> None:
        """Drop and close the client of these params (e.g. the ProxmoxNode was deleted)."""
        with self._lock:
            client = self._clients.pop(params.fingerprint(), None)
        if client is not None:
            client.close()

    def close(self) -> None:
        """Close every client."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    def __len__(self) -> int:
        """Number of cached clients."""
        with self._lock:
            return len(self._clients)
