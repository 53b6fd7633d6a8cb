"""A small GPU estate as the operator stores it: a CloudCredential and its inventory ConfigMaps (plain dicts).

The ConfigMaps are built by the operator's own pure functions (chunk_records, inventory_configmaps),
so the views read exactly the format the operator writes, chunked in two.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from daytwo.operator.reconcile.cloudcredential import chunk_records, inventory_configmaps

NAMESPACE = "daytwo"
CREDENTIAL = "openstack-prod"
SYNCED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _record(type_: str, rid: str, name: str, status: str = "active", **meta: Any) -> dict[str, Any]:
    return {
        "resource_id": rid,
        "name": name,
        "type": type_,
        "provider": "openstack",
        "region": "RegionOne",
        "status": status,
        "metadata": {k: str(v) for k, v in meta.items()},
    }


def _aggregate(rid: str, name: str, hosts: list[str], **properties: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"hosts": ",".join(hosts)}
    if properties:
        meta["properties"] = json.dumps(properties)
    return _record("aggregate", rid, name, **meta)


def _hypervisor(host: str, state: str = "up", status: str = "enabled") -> dict[str, Any]:
    return _record("hypervisor", f"hv-{host}", f"{host}.cloud.local", status, host=host, state=state)


def _vm(rid: str, host: str, flavor: str, status: str = "active", project: str = "p1", **meta: Any) -> dict[str, Any]:
    record = _record("vm", rid, f"vm-{rid}", status, host=host, flavor=flavor, project_id=project, **meta)
    record["created_at"] = "2026-11-01T10:00:00Z"
    return record


def records() -> list[dict[str, Any]]:
    """L40: ondemand (two variants), spot, runpod; a contract; H100 ondemand only; an AZ aggregate."""
    return [
        _aggregate("1", "L40-n3", ["l40-1", "l40-2"], gpu_per_host="8"),
        _aggregate("2", "L40-n3-NVLink", ["l40-2", "l40-3"]),
        _aggregate("3", "L40-n3-spot", ["l40-4"], gpu_per_host="8"),
        _aggregate("4", "L40-n3-runpod", []),
        _aggregate("5", "Contract-L40-Acme", ["l40-5"], owner_group="Investors"),
        _aggregate("6", "H100-n3", ["h100-1"]),
        _aggregate("7", "az-east", ["l40-1", "l40-2", "l40-3", "l40-4", "l40-5", "h100-1"]),
        *(_hypervisor(f"l40-{n}") for n in range(1, 5)),
        _hypervisor("l40-5", state="down"),
        _hypervisor("h100-1", status="disabled"),
        _record("flavor", "f1", "n3-L40x4", gpus=4, extra_specs=json.dumps({"pci_passthrough:alias": "L40:4"})),
        _record("flavor", "f2", "n3-L40x8", gpus=8, extra_specs=json.dumps({"gpu_type": "L40", "gpu_count": "8"})),
        _record("flavor", "f3", "n3-H100x8", gpus=8, extra_specs=json.dumps({"pci_passthrough:alias": "H100:8"})),
        _record("flavor", "f4", "m1.small"),
        _vm("a", "l40-1", "n3-L40x4", gpus=4),
        _vm("b", "l40-2", "n3-L40x8", gpus=8, project="p2"),
        _vm("c", "l40-5", "n3-L40x8", project="acme", gpus=8),
        _vm("d", "l40-4", "n3-L40x4", status="shutoff"),  # no gpus in metadata: joined through the flavor
        _vm("e", "l40-1", "m1.small"),
        _record("storage", "v1", "vol-1", "available", size_gb=10),
    ]


def credential(kinds: tuple[str, ...] = ("vms", "compute")) -> dict[str, Any]:
    """The OpenStack CloudCredential syncing ``kinds``."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": CREDENTIAL, "namespace": NAMESPACE, "uid": "uid-1"},
        "spec": {"provider": "openstack", "inventory": {"enabled": True, "kinds": list(kinds)}},
    }


def configmaps(items: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The inventory ConfigMaps of ``items`` (default: :func:`records`), in at least two chunks."""
    items = records() if items is None else items
    chunks = chunk_records(items, budget=2500)
    return inventory_configmaps(credential(), "openstack", chunks, {"vms": 5}, SYNCED)


def migration(
    name: str,
    *,
    dry_run: bool = False,
    log: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An AggregateMigration moving l40-4 from spot to ondemand."""
    body: dict[str, Any] = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "AggregateMigration",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations or {}},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": CREDENTIAL},
            "host": "l40-4",
            "sourceAggregate": "L40-n3-spot",
            "targetAggregate": "L40-n3",
            "dryRun": dry_run,
            "requestedBy": "alice",
        },
        "status": dict(status or {}),
    }
    if log is not None:
        body["status"]["commandLog"] = log
    return body


def log_entry(when: str, command: str, status: str = "success", duration: int | None = 1200) -> dict[str, Any]:
    """One status.commandLog entry."""
    entry: dict[str, Any] = {"timestamp": when, "command": command, "status": status, "user": "alice"}
    if duration is not None:
        entry["durationMs"] = duration
    return entry
