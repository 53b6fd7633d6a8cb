"""Proxmox VE I/O for the ProxmoxNode kind (and Proxmox guests of SnapshotPolicy / RestoreJob).

    factory = ProxmoxClientFactory(max_concurrency=4)
    pve = factory.get(ProxmoxConnectionParams(host, token_id="daytwo@pve!operator", token_secret=...,
                                              ca_bundle_pem=pem))
    upid = pve.shutdown(GuestRef("pve1", 100), timeout=60, force_stop=True)
    pve.task_status("pve1", upid)          # non-blocking; TaskStatus.raise_for_exitstatus() on stopped

Only this package imports proxmoxer. Calls are synchronous: run them in worker threads.
"""

# Duplicate scan: the re-export list repeats the private modules' names by design (public API from __init__).
from ._client import ProxmoxClientFactory, ProxmoxerBackend
from ._errors import MESSAGE_RULES, map_exception, missing_privilege
from ._models import (
    ClusterStatus,
    Guest,
    GuestCounts,
    GuestRef,
    GuestType,
    NodeStatus,
    NodeSummary,
    Snapshot,
    TaskFailed,
    TaskState,
    TaskStatus,
    VersionInfo,
    percent,
)
from ._params import ProxmoxConnectionParams
from ._protocol import ProxmoxBackend

__all__ = [
    "MESSAGE_RULES",
    "ClusterStatus",
    "Guest",
    "GuestCounts",
    "GuestRef",
    "GuestType",
    "NodeStatus",
    "NodeSummary",
    "ProxmoxBackend",
    "ProxmoxClientFactory",
    "ProxmoxConnectionParams",
    "ProxmoxerBackend",
    "Snapshot",
    "TaskFailed",
    "TaskState",
    "TaskStatus",
    "VersionInfo",
    "map_exception",
    "missing_privilege",
    "percent",
]
