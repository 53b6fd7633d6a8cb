"""The one place that turns AwsConnectionParams into a client: cached, rotation-aware, thread-safe."""

from __future__ import annotations

import threading

from ..inventory import ClientFactory
from ._client import Boto3Backend
from ._params import AwsConnectionParams

__all__ = ["AwsClientFactory"]


class AwsClientFactory(ClientFactory[AwsConnectionParams, Boto3Backend]):
    """Boto3Backend clients cached by fingerprint; one concurrency limit per endpoint (see ClientFactory)."""

    def build(self, params: AwsConnectionParams, limiter: threading.BoundedSemaphore) -> Boto3Backend:
        """A new client for these params."""
        return Boto3Backend(params, limiter=limiter, policy=self.policy, pool_size=self.max_concurrency)
