"""ProxmoxNode and SnapshotPolicy objects as the operator leaves them (plain dicts) for facade unit tests."""

from __future__ import annotations

from typing import Any

NAMESPACE = "daytwo"


def condition(
    type_: str, status: str, reason: str, message: str = "", when: str = "2026-11-30T10:00:00Z"
) -> dict[str, Any]:
    """A status condition."""
    return {"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": when}


def proxmox_node(
    name: str = "pve-lab",
    connected: bool | None = True,
    reason: str = "Connected",
    guests: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    in_flight: list[dict[str, Any]] | None = None,
    actions: list[dict[str, Any]] | None = None,
    handled: list[str] | None = None,
    display: str | None = "Lab Cluster",
) -> dict[str, Any]:
    """A ProxmoxNode with two cluster nodes (one offline) and the given guests/history."""
    guests = guests if guests is not None else default_guests()
    status: dict[str, Any] = {
        "version": "8.2-1",
        "nodes": [
            {
                "name": "pve1",
                "online": True,
                "cpu": 0.25,
                "maxcpu": 8,
                "mem": 4 * 2**30,
                "maxmem": 16 * 2**30,
                "disk": 10 * 2**30,
                "maxdisk": 100 * 2**30,
                "bootedAt": "2026-11-30T00:00:00Z",
            },
            {"name": "pve2", "online": False, "maxcpu": 4, "maxmem": 8 * 2**30},
        ],
        "guestCounts": {
            "vms": sum(1 for g in guests if g["kind"] == "vm"),
            "containers": sum(1 for g in guests if g["kind"] == "lxc"),
            "running": sum(1 for g in guests if g["status"] == "running"),
        },
        "guests": guests,
        "lastInventoryTime": "2026-11-30T11:00:00Z",
        "history": history or [],
        "inFlight": in_flight or [],
        "handledActions": handled or [],
        "conditions": [],
    }
    if connected is not None:
        message = "Proxmox VE 8.2-1 at 10.0.0.5:8006" if connected else "connection refused"
        status["conditions"].append(condition("Connected", "True" if connected else "False", reason, message))
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "resourceVersion": "10", "generation": 1}
    if display:
        metadata["annotations"] = {"daytwo.io/display-name": display}
    spec: dict[str, Any] = {"host": "10.0.0.5", "port": 8006, "tokenSecretRef": {"name": f"{name}-token"}}
    if actions:
        spec["actions"] = actions
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "ProxmoxNode",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def default_guests() -> list[dict[str, Any]]:
    """Two VMs (one running) and a container."""
    return [
        {"vmid": 100, "name": "web", "node": "pve1", "kind": "vm", "status": "running"},
        {"vmid": 101, "name": "db", "node": "pve1", "kind": "vm", "status": "stopped"},
        {"vmid": 200, "name": "cache", "node": "pve1", "kind": "lxc", "status": "running"},
    ]


def record(id_: str, vmid: int, operation: str, status: str, time: str, **extra: Any) -> dict[str, Any]:
    """One finished operation of status.history."""
    return {
        "id": id_,
        "time": time,
        "node": "pve1",
        "vmid": vmid,
        "kind": "vm",
        "operation": operation,
        "status": status,
        "durationMs": 1500,
        **extra,
    }


def run(
    id_: str, state: str, scheduled: str, finished: str | None = None, created: int = 1, **extra: Any
) -> dict[str, Any]:
    """One SnapshotPolicy run."""
    body: dict[str, Any] = {
        "id": id_,
        "trigger": "scheduled",
        "scheduledAt": scheduled,
        "startedAt": scheduled,
        "state": state,
        "created": created,
        "deleted": 0,
        "failed": 0,
        **extra,
    }
    if finished:
        body["finishedAt"] = finished
    return body


def snapshot_policy(
    name: str,
    vmids: list[int] | None = None,
    nodes: list[str] | None = None,
    cr: str = "pve-lab",
    history: list[dict[str, Any]] | None = None,
    current: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    keep_last: int = 3,
) -> dict[str, Any]:
    """A SnapshotPolicy over Proxmox guests."""
    targets: dict[str, Any] = {}
    if vmids:
        targets["vmids"] = vmids
    if nodes:
        targets["nodes"] = nodes
    status: dict[str, Any] = {"history": history or [], "nextScheduleTime": "2026-12-01T02:00:00Z"}
    if history:
        status["lastRun"] = history[0]
    if current:
        status["currentRun"] = current
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": labels or {},
            "annotations": annotations or {},
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "resourceVersion": "5",
        },
        "spec": {
            "credentialsRef": {"kind": "ProxmoxNode", "name": cr},
            "targets": {"proxmox": targets},
            "schedule": "0 2 * * *",
            "retention": {"keepLast": keep_last},
        },
        "status": status,
    }
