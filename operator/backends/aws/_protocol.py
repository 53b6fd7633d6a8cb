"""The typed surface the CloudCredential handlers and reconcilers program against for AWS (I/O only)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, Unpack, runtime_checkable

from ..records import CloudIdentity, Inventory
from ._costs import CostOptions, CostReport

# costs() takes its keyword options as one TypedDict (CostOptions), shared with the implementation.
__all__ = ["AwsBackend"]


@runtime_checkable
class AwsBackend(Protocol):
    """One AWS account + region. Calls block: run them in a worker thread. Failures raise the shared
    taxonomy (daytwo.operator.errors)."""

    @property
    def endpoint(self) -> str:
        """host:port of the endpoint override, or aws:<region>."""
        ...

    def validate(self) -> CloudIdentity:
        """STS GetCallerIdentity (and AssumeRole when a role is configured): account, principal, expiry."""
        ...

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """EC2 instances (vms), EBS volumes (storage) and VPCs (networks) of the region, every page."""
        ...

    def costs(self, start: date, end: date, **options: Unpack[CostOptions]) -> CostReport:
        """Cost Explorer GetCostAndUsage over [start, end)."""
        ...
