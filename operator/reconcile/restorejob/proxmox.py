"""Proxmox restore planning: REPLACE rolls the guest back in place, NEW clones it from the snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from daytwo.crds.restorejob import CONFIRM_PREFIX, MAX_RESTORE_POINTS

from ...shared.times import format_time
from .plan import Plan, Request, new_vm_name

__all__ = ["GuestView", "ProxmoxObserved", "plan_proxmox"]


@dataclass(frozen=True)
class GuestView:
    """A Proxmox guest."""

    vmid: int
    name: str
    node: str
    type: str
    status: str
    lock: str | None = None


@dataclass(frozen=True)
class ProxmoxObserved:
    """A Proxmox guest and its snapshots (name, taken at epoch seconds, has RAM state)."""

    guest: GuestView | None
    snapshots: tuple[tuple[str, int, bool], ...] = ()


def plan_proxmox(request: Request, observed: ProxmoxObserved, *, dry_run: bool) -> Plan:
    """The plan of a Proxmox restore: REPLACE rolls back in place, NEW clones from the snapshot."""
    plan = Plan({"mode": request.mode, "vmId": str(request.vmid), "node": request.node})
    guest = observed.guest
    if guest is None:
        return plan.refuse("VmNotFound", f"no guest {request.vmid} on node {request.node}")
    newest = sorted(observed.snapshots, key=lambda s: s[1], reverse=True)[:MAX_RESTORE_POINTS]
    points = [
        {"id": name, "name": name, "createdAt": _epoch(taken), "status": "available"} for name, taken, _ in newest
    ]
    plan.status.update(
        vmName=guest.name,
        vmStatus=guest.status,
        guestType=guest.type,
        newVmName=new_vm_name(request, guest.name),
        restorePointName=request.snapshot,
        restorePoints=points or None,
    )
    match = next((s for s in observed.snapshots if s[0] == request.snapshot), None)
    if match is None:
        return plan.refuse("RestorePointNotFound", f"guest {guest.vmid} has no snapshot {request.snapshot!r}")
    plan.status["restorePointCreatedAt"] = _epoch(match[1])
    if request.mode == "REPLACE":
        expected = f"{CONFIRM_PREFIX}{guest.name}"
        if request.confirm != expected:
            plan.refuse("ConfirmationMismatch", f"confirm is {request.confirm!r} but the guest is named "
                        f"{guest.name!r}: it must be exactly {expected!r}")  # fmt: skip
        plan.warnings.append(
            f"DESTRUCTIVE: rolls guest {guest.vmid} ({guest.name}) back to {request.snapshot}; "
            "everything written since is lost"
            + ("; it is stopped first and started again afterwards" if guest.status == "running" else "")
        )
    else:
        plan.warnings.append(
            "Proxmox copies no snapshots to a clone, so the new guest is cloned from the snapshot itself "
            "(a full clone) and left stopped"
        )
    if request.ip_strategy != "NEW_IPS":
        plan.warnings.append(f"ipStrategy {request.ip_strategy} does not apply to Proxmox guests (addresses live in "
                             "the guest)")  # fmt: skip
    if guest.lock:
        plan.warnings.append(f"guest {guest.vmid} is locked ({guest.lock}); the restore waits for the lock")
    if dry_run:
        plan.warnings.append("dry run: every step is validated and recorded, nothing is changed")
    return plan


def _epoch(seconds: int) -> str:
    return format_time(datetime.fromtimestamp(seconds, tz=UTC))
