"""The typed surface the CloudCredential handlers and reconcilers program against for GCP (I/O only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..records import CloudIdentity, Inventory

__all__ = ["GcpBackend"]


@runtime_checkable
class GcpBackend(Protocol):
    """One service account + project. Calls block: run them in a worker thread. Failures raise the
    shared taxonomy (daytwo.operator.errors)."""

    @property
    def endpoint(self) -> str:
        """host:port of the Compute API."""
        ...

    def validate(self) -> CloudIdentity:
        """Service-account token refresh + GET project: project id and service account email (principal)."""
        ...

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Instances (vms), persistent disks (storage), VPC networks (networks), every page."""
        ...
