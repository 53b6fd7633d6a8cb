"""The typed surface the CloudCredential handlers and reconcilers program against for Azure (I/O only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..records import CloudIdentity, Inventory

__all__ = ["AzureBackend"]


@runtime_checkable
class AzureBackend(Protocol):
    """One service principal + subscription. Calls block: run them in a worker thread. Failures raise
    the shared taxonomy (daytwo.operator.errors)."""

    @property
    def endpoint(self) -> str:
        """host:port of ARM."""
        ...

    def validate(self) -> CloudIdentity:
        """Client-credentials token + subscription visible: tenant, client id (principal), subscription."""
        ...

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Virtual machines (vms), managed disks (storage), virtual networks (networks), every page."""
        ...
