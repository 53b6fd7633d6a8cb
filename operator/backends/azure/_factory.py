"""The one place that turns AzureConnectionParams into a client: cached, rotation-aware, thread-safe."""

from __future__ import annotations

import threading

from ..inventory import ClientFactory
from ._client import AzureRestBackend
from ._params import AzureConnectionParams

__all__ = ["AzureClientFactory"]


class AzureClientFactory(ClientFactory[AzureConnectionParams, AzureRestBackend]):
    """AzureRestBackend clients cached by fingerprint; one concurrency limit per endpoint (see ClientFactory)."""

    def build(self, params: AzureConnectionParams, limiter: threading.BoundedSemaphore) -> AzureRestBackend:
        """A new client for these params."""
        return AzureRestBackend(params, limiter=limiter, policy=self.policy, pool_size=self.max_concurrency)
