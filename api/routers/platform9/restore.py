"""pf9 /restore/*: a plan is a RestoreJob with execute false; executing it (the approval) sets execute true.

REPLACE restores need ``restore:admin`` and the exact confirmation ``DELETE AND RESTORE <vm name>``.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, SettingsDep, StoreDep, Write, WriterDep, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.settings import ApiSettings
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import restore as views
from daytwo.api.views.statuses import restore_status
from daytwo.crds.restorejob import CleanupRequest as CleanupAsk
from daytwo.crds.restorejob import CleanupStorageRequest
from daytwo.crds.restorejob import RetryRequest as RetryAsk
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError

from ._shared import ERRORS, PathId, audit, estate, memo
from .monitoring import TimedRoute

__all__ = ["router"]

KIND = "RestoreJob"
RECONCILE = "daytwo.io/reconcile-requested-at"
REQUESTED_BY = "daytwo.io/requested-by"


def _enabled(settings: SettingsDep) -> None:
    """pf9's RESTORE_ENABLED toggle: every restore endpoint answers 404 when it is off."""
    if not settings.restore_enabled:
        raise ApiError(404, "Restore is disabled (DAYTWO_API_RESTORE_ENABLED=false)", "NOT_FOUND")


# The write routes repeat FastAPI's dependency parameters (request, job_id, store, writer, user): deliberate.
router = APIRouter(tags=["restore"], route_class=TimedRoute, responses=ERRORS, dependencies=[Depends(_enabled)])


def _config(settings: ApiSettings) -> dict[str, Any]:
    return {
        "enabled": settings.restore_enabled,
        "dry_run": settings.restore_dry_run,
        "cleanup_volumes": settings.restore_cleanup_volumes,
    }


def _job(store: ObjectStore, job_id: str) -> dict[str, Any]:
    job = store.get(KIND, job_id)
    if job is None:
        raise ApiError(404, f"Restore job {job_id!r} not found", "NOT_FOUND")
    return job


def _job_in(store: ObjectStore, job_id: str, allowed: Collection[str], why: str) -> dict[str, Any]:
    """The RestoreJob, or 409 (``why``) when its pf9 status is not one of ``allowed``."""
    job = _job(store, job_id)
    state = views.job_status(job)
    if state not in allowed:
        raise ApiError(409, f"Restore job {job_id!r} is {state}; {why}", "CONFLICT")
    return job


def _vm(store: ObjectStore, vm_id: str) -> dict[str, Any] | None:
    return next((vm for vm in estate(store).of("vm") if vm.get("resource_id") == vm_id), None)


def _token() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _require_admin_for_replace(user: Principal) -> None:
    if not user.can("restore:admin"):
        raise ApiError(403, "Permission denied: REPLACE restores require restore:admin", "FORBIDDEN")


def _check_confirm(confirm: str | None, vm_name: str | None) -> None:
    """The exact confirmation when the VM name is known; otherwise at least the prefix (the operator rechecks)."""
    expected = views.confirmation_for(vm_name) if vm_name else None
    if expected and confirm != expected:
        raise ApiError(422, f"REPLACE deletes the VM: confirm_destructive must be exactly {expected!r}")
    if not expected and not (confirm or "").startswith(views.CONFIRM_PREFIX):
        raise ApiError(
            422, f"REPLACE deletes the VM: confirm_destructive must be exactly '{views.CONFIRM_PREFIX}<vm name>'"
        )


@router.get("/restore/config", response_model=models.RestoreConfig, summary="Restore configuration")
def restore_config(settings: SettingsDep, user: Principal = require("restore:read")) -> dict[str, Any]:
    """The facade's restore settings (the chart gives the operator the same values)."""
    return _config(settings)


class PlanRequest(BaseModel):
    """POST /restore/plan."""

    project_id: str = Field(min_length=1, max_length=255)
    vm_id: str = Field(min_length=1, max_length=64)
    restore_point_id: str = Field(min_length=1, max_length=64)
    mode: str = Field("NEW", pattern="^(NEW|REPLACE)$")
    new_vm_name: str | None = Field(None, min_length=1, max_length=63)
    ip_strategy: str = Field("NEW_IPS", pattern="^(NEW_IPS|TRY_SAME_IPS|SAME_IPS_OR_FAIL|MANUAL_IP)$")
    manual_ips: dict[str, str] | None = Field(None, description="network id -> IP, for MANUAL_IP")
    confirm_destructive: str | None = Field(None, max_length=300, description="REPLACE: 'DELETE AND RESTORE <vm name>'")
    credential: str | None = Field(None, description="CloudCredential to restore with (default: the VM's inventory)")


def _credential(store: ObjectStore, body: PlanRequest) -> str:
    if body.credential:
        if store.get("CloudCredential", body.credential) is None:
            raise ApiError(422, f"CloudCredential {body.credential!r} not found")
        return body.credential
    vm = _vm(store, body.vm_id)
    if vm is not None:
        return str(vm["credential"])
    openstack = [c for c in store.list("CloudCredential") if (c.get("spec") or {}).get("provider") == "openstack"]
    if len(openstack) == 1:
        return str(openstack[0]["metadata"]["name"])
    raise ApiError(
        422,
        f"VM {body.vm_id!r} is in no synced inventory and there is not exactly one OpenStack CloudCredential: "
        "set credential",
    )


@router.post("/restore/plan", status_code=201, response_model=models.RestoreJob, summary="Create a restore plan")
def create_plan(
    request: Request,
    body: PlanRequest,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("restore:write"),
) -> dict[str, Any]:
    """Create a RestoreJob with execute false; the operator validates and fills status.plan."""
    vm = _vm(store, body.vm_id)
    vm_name = str(vm["name"]) if vm else None
    if body.mode == "REPLACE":
        _require_admin_for_replace(user)
        _check_confirm(body.confirm_destructive, vm_name)
    if body.ip_strategy == "MANUAL_IP" and not body.manual_ips:
        raise ApiError(422, "ip_strategy MANUAL_IP needs manual_ips (network id -> IP)")
    try:
        spec = views.plan_spec(body.model_dump(), _credential(store, body))
    except ValidationError as error:  # what PlanRequest leaves open (a manual address's length, say)
        first = error.errors()[0]
        where = ".".join([*(["manual_ips"] if error.title == "ManualIp" else []), *map(str, first["loc"])])
        raise ApiError(422, f"{where}: {first['msg']}") from error
    name = views.job_name(vm_name or body.vm_id, datetime.now(UTC).strftime("%Y%m%d%H%M%S"), secrets.token_hex(2))
    created = writer.create(
        KIND, {"metadata": {"name": name, "annotations": {REQUESTED_BY: user.username}}, "spec": spec}
    )
    audit(request, user, "restore.plan", f"{KIND}/{name}", mode=body.mode)
    return views.job_row(created)


class ExecuteRequest(BaseModel):
    """POST /restore/execute."""

    plan_id: str = Field(min_length=1, max_length=253)
    confirm_destructive: str | None = Field(None, max_length=300)


@router.post("/restore/execute", status_code=202, response_model=models.RestoreJob, summary="Execute a restore plan")
def execute(
    request: Request,
    body: ExecuteRequest,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("restore:write"),
) -> dict[str, Any]:
    """Approve a PLANNED job: set execute true (REPLACE: restore:admin and the exact confirmation)."""
    job = _job_in(store, body.plan_id, ("PLANNED",), "only a PLANNED job can be executed")
    patch: dict[str, Any] = {"execute": True}
    if views.parsed(job)[0].mode == "REPLACE":
        _require_admin_for_replace(user)
        _check_confirm(body.confirm_destructive, _plan_vm_name(job))
        patch["confirm"] = body.confirm_destructive
    updated = writer.patch(KIND, body.plan_id, {"spec": patch})
    audit(request, user, "restore.execute", f"{KIND}/{body.plan_id}")
    row = views.job_row(updated)
    if row["status"] == "PLANNED":
        row["status"] = "PENDING"
    return row


@router.get("/restore/jobs", response_model=models.RestoreJobList, summary="Restore jobs")
def list_jobs(
    store: StoreDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    vm_id: str | None = None,
    user: Principal = require("restore:read"),
) -> dict[str, Any]:
    """Every RestoreJob, newest first."""
    rows = memo(store).get(
        "restore-jobs",
        store.version(KIND),
        lambda: sorted((views.job_row(j) for j in store.list(KIND)), key=lambda r: r["created_at"] or "", reverse=True),
    )
    chosen = [r for r in rows if (not status or r["status"] == status.upper()) and (not vm_id or r["vm_id"] == vm_id)]
    return {"jobs": chosen, "total": len(chosen)}


@router.get("/restore/jobs/{job_id}", response_model=models.RestoreJob, summary="One restore job")
def get_job(job_id: PathId, store: StoreDep, user: Principal = require("restore:read")) -> dict[str, Any]:
    """A RestoreJob with its plan, steps and created resources."""
    return views.job_row(_job(store, job_id))


class CancelRequest(BaseModel):
    """POST /restore/cancel/{job_id}."""

    reason: str | None = Field(None, max_length=1024)


@router.post("/restore/cancel/{job_id}", response_model=models.RestoreJob, summary="Cancel a restore job")
def cancel(job_id: PathId, body: CancelRequest | None = None, act: Write = writes("restore:write")) -> dict[str, Any]:
    """Set spec.cancel (one way); 409 when the job already finished."""
    state = views.job_status(_job(act.store, job_id))
    if state in views.FINISHED:
        raise ApiError(409, f"Restore job {job_id!r} is {state}; there is nothing to cancel", "CONFLICT")
    updated = act.writer.patch(KIND, job_id, {"spec": {"cancel": True}})
    act.audit("restore.cancel", f"{KIND}/{job_id}", reason=(body.reason if body else None))
    return views.job_row(updated)


class RetryRequest(BaseModel):
    """POST /restore/jobs/{job_id}/retry."""

    confirm_destructive: str | None = Field(None, max_length=300)
    ip_strategy_override: str | None = Field(None, pattern="^(NEW_IPS|TRY_SAME_IPS|SAME_IPS_OR_FAIL)$")


def _plan_vm_name(job: dict[str, Any]) -> str | None:
    plan = views.parsed(job)[1].plan
    return plan.vm_name if plan and plan.vm_name else None


@router.post(
    "/restore/jobs/{job_id}/retry", status_code=202, response_model=models.RetryAccepted, summary="Retry a failed job"
)
def retry(job_id: PathId, body: RetryRequest | None = None, act: Write = writes("restore:admin")) -> dict[str, Any]:
    """Set spec.retry (a new requestedAt): the operator resumes the same job from its failed step."""
    job = _job_in(act.store, job_id, ("FAILED",), "only a FAILED job can be retried")
    spec, status = views.parsed(job)
    if spec.mode == "REPLACE":
        _check_confirm(body.confirm_destructive if body else None, _plan_vm_name(job))
    ask = views.body(RetryAsk(requested_at=_token(), ip_strategy=body.ip_strategy_override if body else None))
    act.writer.patch(KIND, job_id, {"spec": {"retry": ask}})
    act.audit("restore.retry", f"{KIND}/{job_id}")
    failed = next((s.name for s in status.steps or [] if s.state == "Failed"), None)
    reused = {f"{r.type}_id": r.id for r in status.created_resources or [] if not r.deleted}
    return {
        "job_id": job_id,
        "original_job_id": job_id,
        "status": "PENDING",
        "resumed_from_step": failed,
        "reused_resources": reused,
        "ip_strategy": ask.get("ipStrategy") or spec.ip_strategy,
        "message": f"Retry requested. Poll /restore/jobs/{job_id} for progress (retry shows what was resumed).",
    }


class CleanupRequest(BaseModel):
    """POST /restore/jobs/{job_id}/cleanup."""

    delete_volume: bool = False


@router.post(
    "/restore/jobs/{job_id}/cleanup", status_code=202, response_model=models.CleanupAccepted, summary="Clean up a job"
)
def cleanup(job_id: PathId, body: CleanupRequest | None = None, act: Write = writes("restore:admin")) -> dict[str, Any]:
    """Set spec.cleanup (a new requestedAt): the operator removes the job's server, free ports (and volume)."""
    job = _job_in(act.store, job_id, ("FAILED", "CANCELED"), "only failed or canceled jobs are cleaned up")
    token = _token()
    delete_volume = bool(body and body.delete_volume)
    ask = views.body(CleanupAsk(requested_at=token, delete_volume=delete_volume))
    act.writer.patch(KIND, job_id, {"spec": {"cleanup": ask}})
    act.audit("restore.cleanup", f"{KIND}/{job_id}", delete_volume=delete_volume)
    created = [r for r in views.parsed(job)[1].created_resources or [] if not r.deleted]
    return {
        "job_id": job_id,
        "requested_at": token,
        "cleaned": {
            "ports": [r.id for r in created if r.type == "port"],
            "volume": next((r.id for r in created if r.type == "volume"), None),
            "server": next((r.id for r in created if r.type == "server"), None),
            "errors": [],
        },
        "message": f"Cleanup requested (what will be removed is listed); poll /restore/jobs/{job_id} for cleanup.",
    }


@router.post(
    "/restore/jobs/{job_id}/cleanup-storage",
    status_code=202,
    response_model=models.CleanupAccepted,
    summary="Delete storage a completed REPLACE left behind",
)
def cleanup_storage(
    request: Request,
    job_id: PathId,
    store: StoreDep,
    writer: WriterDep,
    delete_old_volume: bool = True,
    delete_source_snapshot: bool = False,
    user: Principal = require("restore:admin"),
) -> dict[str, Any]:
    """Set spec.cleanupStorage (a new requestedAt); only COMPLETED jobs (the old volume: REPLACE only)."""
    job = _job_in(store, job_id, ("COMPLETED",), "storage cleanup needs a COMPLETED job")
    if delete_old_volume and views.parsed(job)[0].mode != "REPLACE" and not delete_source_snapshot:
        raise ApiError(409, "Only REPLACE restores leave an old volume behind; nothing to clean up", "CONFLICT")
    token = _token()
    ask = views.body(
        CleanupStorageRequest(
            requested_at=token, delete_old_volume=delete_old_volume, delete_source_snapshot=delete_source_snapshot
        )
    )
    writer.patch(KIND, job_id, {"spec": {"cleanupStorage": ask}})
    audit(request, user, "restore.cleanup_storage", f"{KIND}/{job_id}", **ask)
    return {
        "job_id": job_id,
        "requested_at": token,
        "result": {"deleted_volumes": [], "deleted_snapshots": [], "errors": [], "skipped": []},
        "message": f"Storage cleanup requested; poll /restore/jobs/{job_id} for cleanup_storage.",
    }


def _planned_points(store: ObjectStore, vm_id: str | None, project: str | None) -> list[dict[str, Any]]:
    """Restore points from the newest plan of the VM (or of any VM of the project)."""
    jobs = sorted(store.list(KIND), key=lambda j: j["metadata"].get("creationTimestamp") or "", reverse=True)
    for job in jobs:
        plan = restore_status(job, conditions=False).plan
        if plan is None:
            continue
        source = ((job.get("spec") or {}).get("source") or {}).get("openstack") or {}
        mine = (vm_id and source.get("vmId") == vm_id) or (not vm_id and project and plan.project_name == project)
        if mine and plan.restore_points:
            return [views.snake(p.to_k8s()) for p in plan.restore_points]
    return []


@router.get("/restore/snapshots", response_model=models.RestorePoints, summary="Snapshots available for restore")
def restore_snapshots(tenant_name: str, store: StoreDep, user: Principal = require("restore:read")) -> dict[str, Any]:
    """Restore points the operator listed in the newest restore plan of the tenant ([] when none was planned)."""
    points = _planned_points(store, None, tenant_name)
    return {"vm_id": None, "restore_points": points, "total": len(points)}


@router.get("/restore/vm/{vm_id}/restore-points", response_model=models.RestorePoints, summary="A VM's restore points")
def restore_points(
    vm_id: PathId, project_id: str, store: StoreDep, user: Principal = require("restore:read")
) -> dict[str, Any]:
    """Snapshots of the VM's boot volume, newest first, as its newest restore plan listed them."""
    points = _planned_points(store, vm_id, None)
    return {"vm_id": vm_id, "restore_points": points, "total": len(points)}


@router.get("/restore/networks/{network_id}/available-ips", summary="Free IPs of a network")
def available_ips(network_id: PathId, store: StoreDep, user: Principal = require("restore:read")) -> dict[str, Any]:
    """Free addresses per subnet as the newest restore plan touching the network computed them."""
    jobs = sorted(store.list(KIND), key=lambda j: j["metadata"].get("creationTimestamp") or "", reverse=True)
    for job in jobs:
        plan = restore_status(job, conditions=False).plan
        for net in (plan.networks or []) if plan else []:
            if net.network_id == network_id and net.subnets:
                return {"network_id": network_id, "subnets": views.snake([s.to_k8s() for s in net.subnets])}
    raise ApiError(
        404,
        f"No restore plan covers network {network_id!r} yet: free addresses are computed when a restore is planned",
        "NOT_FOUND",
    )
