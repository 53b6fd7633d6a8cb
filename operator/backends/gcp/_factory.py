"""The one place that turns GcpConnectionParams into a client: cached, rotation-aware, thread-safe."""

from __future__ import annotations

import threading

from ..inventory import ClientFactory
from ._client import GoogleRestBackend
from ._params import GcpConnectionParams

__all__ = ["GcpClientFactory"]


class GcpClientFactory(ClientFactory[GcpConnectionParams, GoogleRestBackend]):
    """GoogleRestBackend clients cached by fingerprint; one concurrency limit per endpoint (see ClientFactory)."""

    def build(self, params: GcpConnectionParams, limiter: threading.BoundedSemaphore) -> GoogleRestBackend:
        """A new client for these params."""
        return GoogleRestBackend(params, limiter=limiter, policy=self.policy, pool_size=self.max_concurrency)
