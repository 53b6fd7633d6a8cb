"""pf9 snapshot restore: RestoreJob CRs <-> /restore/* JSON (``job_id`` = the RestoreJob's name).

A pf9 plan is a RestoreJob with ``execute: false``; executing it is the approval (``execute: true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from daytwo.crds.base import CamelModel, CredentialsKind, CredentialsRef
from daytwo.crds.restorejob import CONFIRM_PREFIX, ManualIp, OpenStackRestoreSource, RestoreJobSpec, RestoreSource
from daytwo.crds.restorejob_status import RestoreJobStatus
from daytwo.operator.shared.times import format_time

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


def parsed(job: Mapping[str, Any]) -> tuple[RestoreJobSpec, RestoreJobStatus]:
    """A RestoreJob's spec and status as their models (what the views read)."""
    return RestoreJobSpec.model_validate(job["spec"]), RestoreJobStatus.model_validate(job.get("status") or {})


def _raw(model: CamelModel | None) -> dict[str, Any] | None:
    """A status record as stored (the fields it holds, camelCase), for the snake_case pass-through."""
    return model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json") if model else None


def _when(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def job_status(job: Mapping[str, Any]) -> str:
    """The pf9 status of a RestoreJob: from ``status.phase``, else from the spec and what status holds."""
    return _status(*parsed(job))


def _status(spec: RestoreJobSpec, status: RestoreJobStatus) -> str:
    phase = str(status.phase or "").lower()
    if phase in _PHASES:
        return _PHASES[phase]
    if not spec.execute:
        return "PLANNED" if status.plan else "PLANNING"
    return "CANCELING" if spec.cancel else "PENDING"


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
    spec, status = parsed(job)
    source, proxmox = spec.source.openstack, spec.source.proxmox
    plan = status.plan
    steps = status.steps or []
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    state = _status(spec, status)
    failed = next((s for s in steps if s.state == "Failed"), None)
    started = [s.started_at for s in steps if s.started_at]
    finished = [s.finished_at for s in steps if s.finished_at]
    result = _raw(status.result)
    return {
        "id": meta["name"],
        "job_id": meta["name"],
        "status": state,
        "project_id": source.project if source else None,
        "vm_id": source.vm_id if source else (f"{proxmox.node}/{proxmox.vmid}" if proxmox else None),
        "vm_name": plan.vm_name if plan else None,
        "restore_point_id": source.restore_point_id if source else (proxmox.snapshot if proxmox else None),
        "mode": spec.mode,
        "ip_strategy": spec.ip_strategy,
        "new_vm_name": spec.new_vm_name or (plan.new_vm_name if plan else None),
        "dry_run": spec.dry_run,
        "cleanup_policy": spec.cleanup_policy,
        "credential": spec.credentials_ref.name,
        "requested_by": (meta.get("annotations") or {}).get("daytwo.io/requested-by"),
        "created_at": iso(meta.get("creationTimestamp")),
        "started_at": _when(min(started)) if started else None,
        "finished_at": _when(max(finished)) if state in FINISHED and finished else None,
        "plan_json": _plan(_raw(plan)),
        "steps": [
            {
                "step_name": s.name,
                "status": _STEP.get(str(s.state), "PENDING"),
                "attempts": s.attempts,
                "started_at": _when(s.started_at),
                "finished_at": _when(s.finished_at),
                "message": s.message,
            }
            for s in steps
        ],
        "created_resources": [
            {**snake(_raw(r)), "name": r.name, "step": r.step, "deleted": r.deleted}
            for r in status.created_resources or []
        ],
        "result_json": {**snake(result), "ips": result.get("ips") or []} if result else None,
        "error_message": (failed.message if failed else None)
        or (ready.message if ready and state == "FAILED" else None),
        "message": ready.message if ready else None,
        "retry": snake(_raw(status.retry)),
        "cleanup": snake(_raw(status.cleanup)),
        "cleanup_storage": snake(_raw(status.cleanup_storage)),
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
    mode = request.get("mode") or "NEW"
    manual = request.get("manual_ips") or {}
    optional: dict[str, Any] = {"dry_run": True} if request.get("dry_run") else {}
    spec = RestoreJobSpec(
        credentials_ref=CredentialsRef(kind=CredentialsKind.CLOUD_CREDENTIAL, name=credential),
        source=RestoreSource(
            openstack=OpenStackRestoreSource(
                project=request["project_id"], vm_id=request["vm_id"], restore_point_id=request["restore_point_id"]
            )
        ),
        mode=mode,
        ip_strategy=request.get("ip_strategy") or "NEW_IPS",
        execute=False,
        new_vm_name=request.get("new_vm_name") if mode == "NEW" else None,
        confirm=request.get("confirm_destructive") or None,
        manual_ips=[ManualIp(network_id=net, ip=ip) for net, ip in sorted(manual.items())] or None,
        **optional,
    )
    return body(spec)


def body(model: CamelModel) -> dict[str, Any]:
    """A RestoreJob spec (or a request in it) as the facade writes it: the fields it set, camelCase."""
    return model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")
