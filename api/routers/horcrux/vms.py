"""horcrux /api/vms: guests from the ProxmoxNode guest inventories; start/stop are ProxmoxNode power requests (202)."""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.cached import JsonResponse
from daytwo.api.deps import Principal, StoreDep, Write, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.routers.pmi._shared import request_power
from daytwo.api.views.horcrux import vms as views
from fastapi import APIRouter, Body, Query

from ._shared import guests, inventories, memo, vm_or_404
from .monitoring import COMPLETE_HEADER
from .schemas import PowerAnswer, StopBody, Vm

__all__ = ["router"]

router = APIRouter(tags=["vms"])


def _rows(store: StoreDep, status: str | None, hypervisor: str | None) -> list[dict[str, Any]]:
    nodes = inventories(store)
    every = memo(store).get("horcrux-vm-rows", nodes, lambda: [views.vm_view(g) for g in guests(store)])
    if status is None and hypervisor is None:
        return every
    return memo(store).get(
        ("horcrux-vm-rows", status, hypervisor),
        nodes,
        lambda: [r for r in every if status in (None, r["status"]) and hypervisor in (None, r["hypervisor"])],
    )


@router.get("/api/vms", response_model=list[Vm], summary="List VMs (from the ProxmoxNode guest inventories)")
def list_vms(
    store: StoreDep,
    status: Annotated[str | None, Query(pattern="^(running|stopped|paused)$")] = None,
    hypervisor: Annotated[str | None, Query(pattern="^(qemu|lxd|incus|lxc)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    user: Principal = require("vms:read"),
) -> JsonResponse:
    """Every guest of every ProxmoxNode, filtered and paginated (``X-Total-Count``); ``X-Inventory-Complete:
    false`` while some ProxmoxNode's guests are its bounded status list (no inventory written yet)."""
    rows = _rows(store, status, hypervisor)
    headers = {"X-Total-Count": str(len(rows)), COMPLETE_HEADER: str(views.complete(inventories(store))).lower()}
    return JsonResponse(rows[offset : offset + limit], headers=headers)


@router.get("/api/vms/{vm_id}", response_model=Vm, summary="Get a VM")
def get_vm(vm_id: str, store: StoreDep, user: Principal = require("vms:read")) -> dict[str, Any]:
    """One guest by vmid."""
    return views.vm_view(vm_or_404(store, vm_id))


def _power(act: Write, vm_id: str, op: str, force: bool) -> dict[str, Any]:
    guest = vm_or_404(act.store, vm_id)
    target = "running" if op == "start" else "stopped"
    if guest.status == target:
        raise ApiError(409, f"VM {vm_id} is already {target}", "CONFLICT")
    job = request_power(act.store, act.writer, guest.cr, guest.vmid, op, force, act.user.username, "hx")
    act.audit(f"vm.{'start' if op == 'start' else 'stop'}", f"vm-{vm_id}", job_id=job)
    verb = "start" if op == "start" else "stop"
    return {"id": vm_id, "status": target, "message": f"VM {verb} requested", "job_id": job, "pid": None}


@router.post("/api/vms/{vm_id}/start", response_model=PowerAnswer, status_code=202, summary="Start a VM")
def start_vm(vm_id: str, act: Write = writes("vms:write")) -> dict[str, Any]:
    """Ask the operator to start the guest; 202 with the operation id (409 when it already runs)."""
    return _power(act, vm_id, "start", False)


@router.post("/api/vms/{vm_id}/stop", response_model=PowerAnswer, status_code=202, summary="Stop a VM")
def stop_vm(
    vm_id: str, body: Annotated[StopBody | None, Body()] = None, act: Write = writes("vms:write")
) -> dict[str, Any]:
    """Graceful shutdown (force: power off); 202 with the operation id (409 when already stopped)."""
    force = bool(body and body.force)
    return _power(act, vm_id, "stop" if force else "shutdown", force)
