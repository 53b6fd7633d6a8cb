"""The typed surface the ProxmoxNode handlers and reconcilers program against (I/O only, synchronous)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Unpack, runtime_checkable

# Duplicate scan: deliberate, _client.py imports the same record types (the Protocol and its implementation
# return the same records).
from ._models import (
    CloneOptions,
    ClusterStatus,
    Guest,
    GuestCounts,
    GuestRef,
    NodeCertificate,
    NodeStatus,
    NodeSummary,
    Snapshot,
    TaskStatus,
    VersionInfo,
)

# clone() takes its keyword options as one TypedDict (CloneOptions), shared with the implementation.
__all__ = ["ProxmoxBackend"]


@runtime_checkable
class ProxmoxBackend(Protocol):
    """One Proxmox VE endpoint. Calls block: run them in a worker thread. Failures raise the shared
    taxonomy (daytwo.operator.errors); a task that ends badly raises TaskFailed from ``wait_task``."""

    @property
    def endpoint(self) -> str:
        """host:port of the API."""
        ...

    def version(self) -> VersionInfo:
        """GET /version."""
        ...

    def cluster_status(self) -> ClusterStatus:
        """GET /cluster/status: name, quorum, nodes online."""
        ...

    def nodes(self) -> list[NodeSummary]:
        """GET /nodes: every node with online state and usage."""
        ...

    def node_status(self, node: str) -> NodeStatus:
        """GET /nodes/{node}/status."""
        ...

    def node_certificates(self, node: str) -> list[NodeCertificate]:
        """GET /nodes/{node}/certificates/info: the node's certificates (Sys.Audit)."""
        ...

    def guests(self, node: str | None = None) -> list[Guest]:
        """Every VM and container: cluster-wide from /cluster/resources, or one node's qemu + lxc lists."""
        ...

    def guest_counts(self, guests: Sequence[Guest] | None = None) -> GuestCounts:
        """Counts by type and state, of the given guests or a fresh inventory."""
        ...

    def start(self, guest: GuestRef) -> str:
        """Power on; returns the task UPID."""
        ...

    def shutdown(self, guest: GuestRef, *, timeout: int | None = None, force_stop: bool = False) -> str:
        """Graceful (ACPI / init) shutdown; with force_stop PVE stops the guest hard after the timeout."""
        ...

    def stop(self, guest: GuestRef) -> str:
        """Hard power-off; returns the task UPID."""
        ...

    def reboot(self, guest: GuestRef, *, timeout: int | None = None) -> str:
        """Graceful reboot; returns the task UPID."""
        ...

    def task_status(self, node: str, upid: str) -> TaskStatus:
        """Non-blocking: running, or stopped with its exit status."""
        ...

    def wait_task(self, node: str, upid: str, *, timeout: float, poll_interval: float = 0.5) -> TaskStatus:
        """Poll until the task stops; raises TaskFailed on an error exit, Timeout at the deadline."""
        ...

    def list_snapshots(self, guest: GuestRef) -> list[Snapshot]:
        """The guest's snapshots, oldest first, without PVE's 'current' entry."""
        ...

    def create_snapshot(
        self, guest: GuestRef, name: str, *, description: str = "", include_memory: bool = False
    ) -> str:
        """Take a snapshot (include_memory saves RAM state, qemu only); returns the task UPID."""
        ...

    def delete_snapshot(self, guest: GuestRef, name: str, *, force: bool = False) -> str:
        """Remove a snapshot; returns the task UPID."""
        ...

    def rollback_snapshot(self, guest: GuestRef, name: str, *, start: bool = False) -> str:
        """Roll the guest back to a snapshot in place; returns the task UPID."""
        ...

    def clone(self, guest: GuestRef, newid: int, **options: Unpack[CloneOptions]) -> str:
        """Clone a guest (optionally from a snapshot) to vmid newid; returns the task UPID."""
        ...

    def next_vmid(self) -> int:
        """GET /cluster/nextid: a free vmid for a clone."""
        ...
