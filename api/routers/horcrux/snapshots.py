"""horcrux /api/vms/{id}/snapshots*: on-demand snapshots are SnapshotPolicies of their own (202, job id =
the policy); snapshots of scheduled policies are listed from their runs; restore creates a RestoreJob."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, Write, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.routers.snapshotpolicies import typed_policies, typed_policy
from daytwo.api.views.horcrux import requests as build
from daytwo.api.views.horcrux import snapshots as views
from daytwo.api.views.horcrux.vms import Guest
from daytwo.crds.restorejob import CONFIRM_PREFIX
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Body

from ._shared import target_ids, vm_or_404
from .schemas import Message, RestoreAnswer, RestoreBody, Snapshot, SnapshotCreate, SnapshotCreated, SnapshotTree

__all__ = ["create_snapshot", "router", "snapshot_rows"]

router = APIRouter(tags=["snapshots"])
POLICY = "SnapshotPolicy"


def snapshot_rows(store: StoreDep, guest: Guest) -> list[dict[str, Any]]:
    """The guest's snapshots (on-demand and scheduled), oldest first."""
    return views.snapshots(typed_policies(store), guest.cr, guest.vmid, guest.node, target_ids(store))


def _snapshot_or_404(store: StoreDep, guest: Guest, snapshot_id: str) -> dict[str, Any]:
    found = next((s for s in snapshot_rows(store, guest) if s["id"] == snapshot_id), None)
    if found is None:
        raise ApiError(404, f"Snapshot '{snapshot_id}' of VM {guest.vmid} not found", "NOT_FOUND")
    return found


def create_snapshot(act: Write, guest: Guest, name: str, description: str | None, memory: bool) -> dict[str, Any]:
    """Create the on-demand SnapshotPolicy for one snapshot of ``guest``; the 202 answer."""
    body = build.ondemand_snapshot_body(guest.cr, guest.vmid, name, description, memory)
    created = act.writer.create(POLICY, body)
    job = str((created.get("metadata") or {}).get("name") or body["metadata"]["name"])
    act.audit("snapshot.create", f"vm-{guest.vmid}", job_id=job)
    return {
        "id": job,
        "vm_id": str(guest.vmid),
        "name": name,
        "created_at": format_time(datetime.now(UTC)),
        "message": "Snapshot requested; it appears in the list when the run finishes",
        "job_id": job,
    }


@router.get("/api/vms/{vm_id}/snapshots", response_model=list[Snapshot], summary="List the snapshots of a VM")
def list_snapshots(vm_id: str, store: StoreDep, user: Principal = require("snapshots:read")) -> list[dict[str, Any]]:
    """On-demand snapshots and those of scheduled policies covering the VM, oldest first."""
    return snapshot_rows(store, vm_or_404(store, vm_id))


@router.post("/api/vms/{vm_id}/snapshots", response_model=SnapshotCreated, status_code=202, summary="Snapshot a VM now")
def post_snapshot(vm_id: str, body: SnapshotCreate, act: Write = writes("snapshots:write")) -> dict[str, Any]:
    """An on-demand SnapshotPolicy (runOnCreate) for this VM; 202, job id = the policy (409: name taken)."""
    guest = vm_or_404(act.store, vm_id)
    return create_snapshot(act, guest, body.name, body.description, body.include_memory)


@router.get("/api/vms/{vm_id}/snapshots/tree", response_model=SnapshotTree, summary="Snapshot hierarchy of a VM")
def snapshot_tree(vm_id: str, store: StoreDep, user: Principal = require("snapshots:read")) -> dict[str, Any]:
    """Snapshots as a tree (each the parent of the next, by time)."""
    return views.snapshot_tree(vm_id, snapshot_rows(store, vm_or_404(store, vm_id)))


@router.get("/api/vms/{vm_id}/snapshots/{snapshot_id}", response_model=Snapshot, summary="One snapshot")
def get_snapshot(
    vm_id: str, snapshot_id: str, store: StoreDep, user: Principal = require("snapshots:read")
) -> dict[str, Any]:
    """One snapshot of the VM."""
    return _snapshot_or_404(store, vm_or_404(store, vm_id), snapshot_id)


@router.post(
    "/api/vms/{vm_id}/snapshots/{snapshot_id}/restore",
    response_model=RestoreAnswer,
    status_code=202,
    summary="Restore a VM from a snapshot (a RestoreJob)",
)
def restore_snapshot(
    vm_id: str,
    snapshot_id: str,
    body: Annotated[RestoreBody | None, Body()] = None,
    act: Write = writes("restore:write"),
) -> dict[str, Any]:
    """Create a RestoreJob (NEW side by side; REPLACE needs restore:admin and the confirmation string)."""
    options = body or RestoreBody()
    guest = vm_or_404(act.store, vm_id)
    snap = _snapshot_or_404(act.store, guest, snapshot_id)
    if options.mode == "REPLACE":
        if not act.user.can("restore:admin"):
            raise ApiError(403, "Permission denied: REPLACE restores require restore:admin", "FORBIDDEN")
        expected = f"{CONFIRM_PREFIX}{guest.name}"
        if options.confirm != expected:
            raise ApiError(422, f"REPLACE deletes the VM: set confirm to exactly {expected!r}", "VALIDATION_ERROR")
    if snap["status"] not in ("completed",) or not snap["snapshot_name"]:
        raise ApiError(
            409, f"Snapshot '{snapshot_id}' is {snap['status']}; restore it once it is completed", "CONFLICT"
        )
    name = build.dns_name("hx-restore", str(guest.vmid), uuid.uuid4().hex[:6])
    job_body = build.restore_job_body(
        name,
        guest.cr,
        guest.node,
        guest.vmid,
        snap["snapshot_name"],
        options.mode,
        options.confirm,
        options.new_vm_name,
    )
    created = act.writer.create("RestoreJob", job_body)
    job = str((created.get("metadata") or {}).get("name") or name)
    act.audit("vm.restore", f"vm-{vm_id}", job_id=job, snapshot=snapshot_id, mode=options.mode)
    return {"message": "Restore started", "snapshot_id": snapshot_id, "vm_status": guest.status, "job_id": job}


@router.delete(
    "/api/vms/{vm_id}/snapshots/{snapshot_id}", response_model=Message, summary="Delete an on-demand snapshot"
)
def delete_snapshot(vm_id: str, snapshot_id: str, act: Write = writes("snapshots:write")) -> dict[str, Any]:
    """Delete the on-demand snapshot's SnapshotPolicy; scheduled snapshots belong to their policy's retention."""
    snap = _snapshot_or_404(act.store, vm_or_404(act.store, vm_id), snapshot_id)
    policy = act.store.get(POLICY, snap["policy"])
    if policy is None or not views.is_ondemand(typed_policy(policy)):
        raise ApiError(
            409,
            f"Snapshot '{snapshot_id}' belongs to SnapshotPolicy '{snap['policy']}'; its retention deletes it",
            "CONFLICT",
        )
    act.writer.delete(POLICY, snap["policy"])
    act.audit("snapshot.delete", f"vm-{vm_id}", snapshot=snapshot_id)
    return {"message": "Snapshot deleted successfully (its on-demand SnapshotPolicy is removed)"}
