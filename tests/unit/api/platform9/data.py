"""Plain CR / ConfigMap dicts the platform9 view and route tests share (hand-written, small)."""

from __future__ import annotations

import json
from typing import Any

NS = "daytwo"


def meta(name: str, **extra: Any) -> dict[str, Any]:
    """metadata of an object in the test namespace."""
    return {"name": name, "namespace": NS, "resourceVersion": "1", "uid": f"uid-{name}", **extra}


def rule(name: str, field: str = "status", severity: str = "critical", enabled: bool = True) -> dict[str, Any]:
    """A DriftRule on servers."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftRule",
        "metadata": meta(name),
        "spec": {
            "target": {"credentialsRef": {"kind": "CloudCredential", "name": "os"}, "resourceType": "server"},
            "field": field,
            "severity": severity,
            "description": "Detects when a server's power status changes unexpectedly",
            "enabled": enabled,
            "intervalSeconds": 60,
        },
        "status": {"openEvents": 2, "unacknowledgedEvents": 1, "lastEvaluationTime": "2026-11-30T10:00:00Z"},
    }


def event(
    name: str,
    *,
    severity: str = "critical",
    resource_type: str = "server",
    detected: str = "2026-11-30T08:30:00Z",
    tenant: str = "proj-a",
    acked: bool = False,
    resource_name: str = "web-01",
    old: str | None = '"ACTIVE"',
    new: str | None = '"SHUTOFF"',
) -> dict[str, Any]:
    """A DriftEvent of rule ``status-rule``."""
    spec: dict[str, Any] = {
        "ruleRef": "status-rule",
        "resourceType": resource_type,
        "resourceId": f"id-{resource_name}",
        "resourceName": resource_name,
        "field": "status",
        "change": "Modified" if new is not None else "Deleted",
        "severity": severity,
        "detectedAt": detected,
        "domainName": "Default",
        "projectName": tenant,
    }
    if old is not None:
        spec["oldValue"] = old
    if new is not None:
        spec["newValue"] = new
    if acked:
        spec["acknowledgement"] = {"acknowledged": True, "by": "ops@example.com", "at": "2026-11-30T09:00:00Z"}
    return {"apiVersion": "daytwo.io/v1alpha1", "kind": "DriftEvent", "metadata": meta(name), "spec": spec}


def policy(name: str = "daily", *, sla: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    """A SnapshotPolicy daily_5 over volumes tagged auto_snapshot=true."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": meta(name),
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "os"},
            "targets": {"openstack": {"volumeMetadata": {"auto_snapshot": "true"}, "volumeIds": ["vol-x"]}},
            "policyName": "daily_5",
            "slaDays": 2,
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Scheduled",
                    "message": "next run at ...",
                    "lastTransitionTime": "2026-11-30T00:00:00Z",
                }
            ],
            "sla": sla if sla is not None else SLA,
            **status,
        },
    }


SLA = {
    "evaluatedAt": "2026-11-30T00:05:00Z",
    "tenants": [
        {"tenant": "proj-a", "total": 4, "compliant": 3, "warning": 1, "critical": 0, "percentage": 75.0},
        {"tenant": "proj-b", "total": 2, "compliant": 0, "warning": 0, "critical": 2, "percentage": 0.0},
    ],
    "outOfSla": [
        {
            "id": "vol-3",
            "name": "db",
            "tenant": "proj-a",
            "severity": "warning",
            "lastSnapshotAt": "2026-11-27T00:00:00Z",
        },
        {"id": "vol-5", "name": None, "tenant": "proj-b", "severity": "critical"},
        {"id": "vol-6", "name": "logs", "tenant": "proj-b", "severity": "critical"},
    ],
    "outOfSlaTotal": 3,
}


def targets_cm(policy_name: str, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``<p>-targets`` ConfigMap the operator writes."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(
            f"{policy_name}-targets",
            labels={"daytwo.io/snapshot-policy": policy_name, "app.kubernetes.io/part-of": "daytwo"},
            ownerReferences=[{"kind": "SnapshotPolicy", "name": policy_name}],
        ),
        "data": {"targets.json": json.dumps(targets)},
    }


RECORDS = [
    {
        "resource_id": "vm-1",
        "name": "web-01",
        "type": "vm",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "active",
        "created_at": "2026-11-30T07:00:00Z",
        "metadata": {
            "flavor": "m1.small",
            "vcpus": "2",
            "ram_mb": "2048",
            "project_id": "proj-a",
            "hypervisor_hostname": "cmp-1",
            "private_ip": "10.0.0.5",
            "public_ip": "203.0.113.5",
            "image_id": "img-1",
        },
    },
    {
        "resource_id": "vm-2",
        "name": "db-01",
        "type": "vm",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "shutoff",
        "metadata": {
            "flavor": "m1.large",
            "vcpus": "4",
            "ram_mb": "8192",
            "project_id": "proj-a",
            "hypervisor_hostname": "cmp-1",
        },
    },
    {
        "resource_id": "vm-3",
        "name": "api-01",
        "type": "vm",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "error",
        "metadata": {
            "flavor": "m1.small",
            "vcpus": "2",
            "ram_mb": "2048",
            "project_id": "proj-b",
            "hypervisor_hostname": "cmp-2",
        },
    },
    {
        "resource_id": "vol-1",
        "name": "web-root",
        "type": "storage",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "in-use",
        "metadata": {
            "size_gb": "20",
            "bootable": "True",
            "project_id": "proj-a",
            "attached_to": "vm-1",
            "volume_type": "ssd",
        },
    },
    {
        "resource_id": "vol-2",
        "name": "scratch",
        "type": "storage",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "available",
        "metadata": {"size_gb": "500", "project_id": "proj-a"},
    },
    {
        "resource_id": "vol-3",
        "name": "db",
        "type": "storage",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "error",
        "metadata": {"size_gb": "100", "project_id": "proj-b", "attached_to": "vm-3"},
    },
    {
        "resource_id": "net-1",
        "name": "private",
        "type": "network",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "active",
        "metadata": {"project_id": "proj-a", "shared": "False", "subnets": "2", "mtu": "1450"},
    },
    {
        "resource_id": "hyp-1",
        "name": "cmp-1",
        "type": "hypervisor",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "enabled",
        "metadata": {
            "vcpus": "8",
            "vcpus_used": "6",
            "memory_mb": "16384",
            "memory_mb_used": "15000",
            "running_vms": "2",
            "state": "up",
        },
    },
    {
        "resource_id": "4c1b6e8a-3f0d-5b7e-9a21-6d8f0e2c7b15",  # a flavor UUID, distinct from its name
        "name": "m1.small",
        "type": "flavor",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "active",
        "metadata": {"vcpus": "2", "ram_mb": "2048", "disk_gb": "20", "is_public": "True"},
    },
]


def inventory_cms(credential: str = "os", records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A two-chunk inventory (head + ``-1``) of ``records`` (default RECORDS)."""
    records = RECORDS if records is None else records
    half = len(records) // 2
    names = [f"{credential}-inventory", f"{credential}-inventory-1"]
    manifest = {
        "format": "daytwo.io/inventory.v1",
        "provider": "openstack",
        "syncedAt": "2026-11-30T10:00:00Z",
        "counts": {},
        "chunks": [{"name": n, "sha256": "x"} for n in names],
    }
    labels = {"daytwo.io/credential": credential, "app.kubernetes.io/part-of": "daytwo"}
    head = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(names[0], labels=labels),
        "data": {"manifest.json": json.dumps(manifest), "records.json": json.dumps(records[:half])},
    }
    tail = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(names[1], labels=labels),
        "data": {"records.json": json.dumps(records[half:])},
    }
    return [head, tail]


def credential(name: str = "os") -> dict[str, Any]:
    """An OpenStack CloudCredential."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": meta(name),
        "spec": {
            "provider": "openstack",
            "secretRef": {"name": "s"},
            "openstack": {"authUrl": "http://x", "projectDomainName": "Default"},
        },
        "status": {"identity": {"account": "default"}},
    }


def restore_job(
    name: str = "restore-web",
    *,
    execute: bool = False,
    phase: str | None = None,
    plan: bool = True,
    mode: str = "NEW",
    steps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A RestoreJob of vm-1."""
    status: dict[str, Any] = {}
    if plan:
        status["plan"] = {
            "vmName": "web-01",
            "vmId": "vm-1",
            "flavor": "m1.small",
            "bootVolumeId": "vol-1",
            "newVmName": "web-01-restored",
            "networks": [
                {"networkId": "net-1", "originalIps": ["10.0.0.5"], "plannedIps": ["10.0.0.5"], "available": True}
            ],
            "quotaOk": True,
        }
    if phase:
        status["phase"] = phase
    if steps is not None:
        status["steps"] = steps
    spec: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": "os"},
        "source": {"openstack": {"project": "proj-a", "vmId": "vm-1", "restorePointId": "snap-1"}},
        "mode": mode,
        "ipStrategy": "TRY_SAME_IPS",
        "execute": execute,
    }
    if mode == "REPLACE":
        spec["confirm"] = "DELETE AND RESTORE web-01"
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "RestoreJob",
        "metadata": meta(name, creationTimestamp="2026-11-30T11:00:00Z"),
        "spec": spec,
        "status": status,
    }
