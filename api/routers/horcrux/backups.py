"""horcrux /api/backups and /api/backup-jobs: backup jobs are SnapshotPolicies with Proxmox targets, a
backup is one run of one for one VM; "create backup" is an on-demand snapshot, "run now" the run-now
annotation (409 while a run is pending or running)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, Write, WriterDep, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.routers.snapshotpolicies import typed_policies, typed_policy
from daytwo.api.views.horcrux import requests as build
from daytwo.api.views.horcrux import snapshots as views
from daytwo.api.views.snapshotpolicy import InvalidSpec, Policy
from daytwo.crds.base import RECONCILE_ANNOTATION
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Body, Query, Request

from ._shared import audit, guests, target_ids, vm_or_404
from .schemas import Accepted, Backup, BackupCreate, BackupJob, BackupJobCreate
from .snapshots import create_snapshot

__all__ = ["router"]

router = APIRouter(tags=["backups"])
POLICY = "SnapshotPolicy"


def _jobs(store: StoreDep) -> list[Policy]:
    return [p for p in typed_policies(store) if views.covers_proxmox(p) and not views.is_ondemand(p)]


def _backup_rows(store: StoreDep) -> list[dict[str, Any]]:
    names = {str(g.vmid): g.name for g in guests(store)}
    return views.backups(typed_policies(store), names, target_ids(store))


def _backup_or_404(store: StoreDep, backup_id: str) -> dict[str, Any]:
    found = next((b for b in _backup_rows(store) if b["id"] == backup_id), None)
    if found is None:
        raise ApiError(404, f"Backup '{backup_id}' not found", "NOT_FOUND")
    return found


@router.get("/api/backups", response_model=list[Backup], summary="List backups (runs of backup jobs per VM)")
def list_backups(
    store: StoreDep,
    vm_id: str | None = None,
    status: Annotated[str | None, Query(pattern="^(pending|running|completed|failed)$")] = None,
    user: Principal = require("backups:read"),
) -> list[dict[str, Any]]:
    """Every run of every Proxmox SnapshotPolicy, per VM, newest first."""
    return [b for b in _backup_rows(store) if vm_id in (None, b["vm_id"]) and status in (None, b["status"])]


@router.post("/api/backups", response_model=Accepted, status_code=202, summary="Back up a VM now (on-demand snapshot)")
def create_backup(body: BackupCreate, act: Write = writes("backups:write")) -> dict[str, Any]:
    """An on-demand snapshot of the VM; 202 with the SnapshotPolicy as job id."""
    guest = vm_or_404(act.store, body.vm_id)
    name = f"backup-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    made = create_snapshot(act, guest, name, body.description, False)
    return {
        "id": made["id"],
        "vm_id": body.vm_id,
        "status": "running",
        "message": "Backup started",
        "job_id": made["job_id"],
    }


@router.get("/api/backups/{backup_id}", response_model=Backup, summary="One backup")
def get_backup(backup_id: str, store: StoreDep, user: Principal = require("backups:read")) -> dict[str, Any]:
    """One backup by id (``<run id>.<vm id>``)."""
    return _backup_or_404(store, backup_id)


@router.post("/api/backups/{backup_id}/restore", response_model=Accepted, status_code=202, summary="Restore a backup")
def restore_backup(
    backup_id: str,
    request: Request,
    store: StoreDep,
    writer: WriterDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    user: Principal = require("restore:write"),
) -> dict[str, Any]:
    """A RestoreJob (mode NEW: a new guest next to the original) from the backup's snapshot; 202."""
    backup = _backup_or_404(store, backup_id)
    if (body or {}).get("overwrite"):
        raise ApiError(
            422,
            "overwrite replaces the VM: use POST /api/vms/{id}/snapshots/{snapshot_id}/restore with mode REPLACE "
            "and the confirmation string",
            "VALIDATION_ERROR",
        )
    if backup["status"] != "completed" or not backup["path"]:
        raise ApiError(409, f"Backup '{backup_id}' is {backup['status']}; restore it once it is completed", "CONFLICT")
    guest = vm_or_404(store, backup["vm_id"])
    name = build.dns_name("hx-restore", backup["vm_id"], uuid.uuid4().hex[:6])
    created = writer.create(
        "RestoreJob", build.restore_job_body(name, guest.cr, guest.node, guest.vmid, backup["path"])
    )
    job = str((created.get("metadata") or {}).get("name") or name)
    audit(request, user, "backup.restore", f"vm-{guest.vmid}", job_id=job, backup=backup_id)
    return {
        "id": job,
        "vm_id": backup["vm_id"],
        "status": "running",
        "message": "Backup restore started",
        "job_id": job,
    }


@router.get("/api/backup-jobs", response_model=list[BackupJob], summary="List backup jobs (SnapshotPolicies)")
def list_jobs(store: StoreDep, user: Principal = require("backups:read")) -> list[dict[str, Any]]:
    """Every scheduled SnapshotPolicy with Proxmox targets."""
    targets = target_ids(store)
    return [views.backup_job(p, targets.get(p.name, ())) for p in _jobs(store)]


@router.post("/api/backup-jobs", response_model=BackupJob, status_code=201, summary="Create a backup job")
def create_job(
    body: BackupJobCreate,
    request: Request,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("snapshots:admin"),
) -> dict[str, Any]:
    """A SnapshotPolicy over the VMs (all on one ProxmoxNode) with the cron schedule and retention."""
    found = [vm_or_404(store, vm_id) for vm_id in body.vm_ids]
    nodes = {g.cr for g in found}
    if len(nodes) != 1:
        raise ApiError(
            422, f"vm_ids span several ProxmoxNodes ({', '.join(sorted(nodes))}); one job per node", "VALIDATION_ERROR"
        )
    try:
        policy = build.backup_job_body(
            body.name,
            nodes.pop(),
            body.schedule,
            [g.vmid for g in found],
            body.retention_days,
            body.keep_last,
            body.enabled,
        )
    except InvalidSpec as error:
        raise ApiError(422, str(error), "VALIDATION_ERROR") from None
    created = writer.create(POLICY, policy)
    audit(request, user, "backup_job.create", f"job-{policy['metadata']['name']}")
    return views.backup_job(typed_policy(created if created.get("spec") else policy))


@router.post("/api/backup-jobs/{job_id}/run", response_model=Accepted, status_code=202, summary="Run a backup job now")
def run_job(
    job_id: str, request: Request, store: StoreDep, writer: WriterDep, user: Principal = require("backups:write")
) -> dict[str, Any]:
    """The run-now annotation; 409 while a run is pending or running. 202, job id = the policy."""
    policy = next((p for p in _jobs(store) if p.name == job_id), None)
    if policy is None:
        raise ApiError(404, f"Backup job '{job_id}' not found", "NOT_FOUND")
    token = policy.annotations.get(RECONCILE_ANNOTATION)
    if (token and token != policy.status.last_handled_reconcile_at) or policy.status.current_run:
        raise ApiError(409, f"Backup job '{job_id}' is already pending or running", "CONFLICT")
    writer.annotate(POLICY, job_id, {RECONCILE_ANNOTATION: f"{format_time(datetime.now(UTC))}-{uuid.uuid4().hex[:6]}"})
    audit(request, user, "backup_job.run", f"job-{job_id}")
    return {"id": job_id, "status": "pending", "message": "Backup job started", "job_id": job_id, "backups_created": 0}
