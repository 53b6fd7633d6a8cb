"""pf9 snapshot restore: RestoreJob CRs <-> /restore/* JSON (``job_id`` = the RestoreJob's name).

A pf9 plan is a RestoreJob with ``execute: false``; executing it is the approval (``execute: true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from daytwo.crds.restorejob import CONFIRM_PREFIX

from .common import iso

__all__ = [
    "CONFIRM_PREFIX",
    "FINISHED",
    "confirmation_for",
    "job_name",
    "job_row",
    "job_status",
    "plan_spec",
    "snake",
]

#: pf9 job statuses a job cannot leave.
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED"})
_PHASES = {
    "planning": "PLANNING",
    "planned": "PLANNED",
    "pending": "PENDING",
    "running": "RUNNING",
    "executing": "RUNNING",
    "canceling": "CANCELING",
    "cancelling": "CANCELING",
    "succeeded": "COMPLETED",
    "completed": "COMPLETED",
    "failed": "FAILED",
    "canceled": "CANCELED",
    "cancelled": "CANCELED",
    "interrupted": "INTERRUPTED",
}
_STEP = {
    "Pending": "PENDING",
    "Running": "RUNNING",
    "Succeeded": "COMPLETED",
    "Failed": "FAILED",
    "Skipped": "SKIPPED",
    "Canceled": "CANCELED",
}


def job_status(job: Mapping[str, Any]) -> str:
    """The pf9 status of a RestoreJob: from ``status.phase``, else from the spec and what status holds."""
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    phase = str(status.get("phase") or "").lower()
    if phase in _PHASES:
        return _PHASES[phase]
    if not spec.get("execute"):
        return "PLANNED" if status.get("plan") else "PLANNING"
    return "CANCELING" if spec.get("cancel") else "PENDING"


def snake(value: Any) -> Any:
    """camelCase keys (recursively) as pf9's snake_case."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def _plan(plan: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not plan:
        return None
    found: dict[str, Any] = snake(dict(plan))
    found["networks"] = [
        {**n, "original_ips": n.get("original_ips") or [], "planned_ips": n.get("planned_ips") or []}
        for n in found.get("networks") or []
    ]
    found["warnings"] = found.get("warnings") or []
    found["restore_points"] = found.get("restore_points") or []
    for key in ("vm_name", "vm_id", "flavor", "boot_volume_id", "restore_point_size_gb", "new_vm_name", "quota_ok"):
        found.setdefault(key, None)
    return found


def job_row(job: Mapping[str, Any]) -> dict[str, Any]:
    """A RestoreJob as pf9's restore job object (plan, steps, created resources, result)."""
    meta = job["metadata"]
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    source = (spec.get("source") or {}).get("openstack") or {}
    proxmox = (spec.get("source") or {}).get("proxmox") or {}
    plan = status.get("plan") or {}
    steps = status.get("steps") or []
    ready: dict[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    state = job_status(job)
    failed = next((s for s in steps if s.get("state") == "Failed"), None)
    started = [s.get("startedAt") for s in steps if s.get("startedAt")]
    finished = [s.get("finishedAt") for s in steps if s.get("finishedAt")]
    return {
        "id": meta["name"],
        "job_id": meta["name"],
        "status": state,
        "project_id": source.get("project"),
        "vm_id": source.get("vmId") or (f"{proxmox.get('node')}/{proxmox.get('vmid')}" if proxmox else None),
        "vm_name": plan.get("vmName"),
        "restore_point_id": source.get("restorePointId") or proxmox.get("snapshot"),
        "mode": spec.get("mode", "NEW"),
        "ip_strategy": spec.get("ipStrategy", "NEW_IPS"),
        "new_vm_name": spec.get("newVmName") or plan.get("newVmName"),
        "dry_run": bool(spec.get("dryRun", False)),
        "cleanup_policy": spec.get("cleanupPolicy", "Retain"),
        "credential": (spec.get("credentialsRef") or {}).get("name"),
        "requested_by": (meta.get("annotations") or {}).get("daytwo.io/requested-by"),
        "created_at": iso(meta.get("creationTimestamp")),
        "started_at": iso(min(started)) if started else None,
        "finished_at": iso(max(finished)) if state in FINISHED and finished else None,
        "plan_json": _plan(plan),
        "steps": [
            {
                "step_name": s.get("name"),
                "status": _STEP.get(str(s.get("state")), "PENDING"),
                "attempts": int(s.get("attempts", 0)),
                "started_at": iso(s.get("startedAt")),
                "finished_at": iso(s.get("finishedAt")),
                "message": s.get("message"),
            }
            for s in steps
        ],
        "created_resources": [
            {**snake(r), "name": r.get("name"), "step": r.get("step"), "deleted": bool(r.get("deleted", False))}
            for r in status.get("createdResources") or []
        ],
        "result_json": {**snake(status["result"]), "ips": status["result"].get("ips") or []}
        if status.get("result")
        else None,
        "error_message": (failed or {}).get("message") or (ready.get("message") if state == "FAILED" else None),
        "message": ready.get("message"),
        "retry": snake(status.get("retry")),
        "cleanup": snake(status.get("cleanup")),
        "cleanup_storage": snake(status.get("cleanupStorage")),
    }


def confirmation_for(vm_name: str) -> str:
    """The exact string a REPLACE restore of ``vm_name`` must carry."""
    return f"{CONFIRM_PREFIX}{vm_name}"


def job_name(vm_label: str, stamp: str, salt: str) -> str:
    """A RestoreJob name from the VM (name or id), a UTC stamp and a short random salt (DNS-1123)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", vm_label.lower()).strip("-")[:30].strip("-") or "vm"
    return f"restore-{slug}-{stamp}-{salt}"


def plan_spec(request: Mapping[str, Any], credential: str) -> dict[str, Any]:
    """The RestoreJob spec of a pf9 plan request (execute false: the operator computes the plan)."""
    spec: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": credential},
        "source": {
            "openstack": {
                "project": request["project_id"],
                "vmId": request["vm_id"],
                "restorePointId": request["restore_point_id"],
            }
        },
        "mode": request.get("mode") or "NEW",
        "ipStrategy": request.get("ip_strategy") or "NEW_IPS",
        "execute": False,
    }
    if request.get("new_vm_name") and spec["mode"] == "NEW":
        spec["newVmName"] = request["new_vm_name"]
    if request.get("confirm_destructive"):
        spec["confirm"] = request["confirm_destructive"]
    if request.get("dry_run"):
        spec["dryRun"] = True
    manual = request.get("manual_ips") or {}
    if manual:
        spec["manualIps"] = [{"networkId": net, "ip": ip} for net, ip in sorted(manual.items())]
    return spec
