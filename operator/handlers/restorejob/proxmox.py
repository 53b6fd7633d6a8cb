"""The steps of a Proxmox restore: REPLACE rolls the guest back in place, NEW clones it from the snapshot.

REPLACE: stop the guest if it runs, roll back to the snapshot, start it again if it ran. NEW: take a
free vmid (recorded before the clone is submitted), clone from the snapshot (Proxmox copies no
snapshots to a clone, so "clone, then roll the clone back" is one clone from the snapshot: the same
disks, and the source is never touched), leave the clone stopped. Each task's UPID is recorded; a
step interrupted before its UPID was recorded checks the guest (power state, lock, the new vmid)
before submitting again, so nothing runs twice that matters (a rollback is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from daytwo.crds.base import StepState
from daytwo.crds.restorejob_status import CleanupStatus, CreatedResource, RestoreResult

from ...backends.proxmox import Guest, GuestRef, GuestType, ProxmoxBackend
from ...reconcile.restorejob.plan import Plan, Request
from ...reconcile.restorejob.proxmox import GuestView, ProxmoxObserved, plan_proxmox
from ...reconcile.restorejob.steps import CLONE, FINALIZE, ROLLBACK, START_GUEST, STOP_GUEST, VALIDATE
from .context import JobContext, StepFailed
from .engine import StepEngine, StepFn

__all__ = ["ProxmoxEngine"]


class ProxmoxEngine(StepEngine):
    """Plan and steps of one Proxmox RestoreJob."""

    def __init__(self, ctx: JobContext, backend: ProxmoxBackend) -> None:
        self.ctx, self.backend = ctx, backend

    def step_table(self) -> Mapping[str, StepFn]:
        """REPLACE: stop, roll back, start; NEW: clone."""
        return {
            VALIDATE: self.validate,
            STOP_GUEST: self.stop_guest,
            ROLLBACK: self.rollback,
            START_GUEST: self.start_guest,
            CLONE: self.clone,
            FINALIZE: self.finalize,
        }

    def guest(self, node: str, vmid: int) -> Guest | None:
        """The guest with this vmid on the node, or None."""
        return next((g for g in self.backend.guests(node) if g.vmid == vmid), None)

    def ref(self, request: Request) -> GuestRef:
        """The source guest."""
        kind: GuestType = "lxc" if self.ctx.plan.guest_type == "lxc" else "vm"
        return GuestRef(str(request.node), int(request.vmid or 0), kind)

    def plan(self, request: Request) -> Plan:
        """Observe the guest and its snapshots, and plan."""
        found = self.guest(str(request.node), int(request.vmid or 0))
        view = GuestView(found.vmid, found.name, found.node, found.type, found.status, found.lock) if found else None
        snapshots: tuple[tuple[str, int, bool], ...] = ()
        if found is not None:
            listed = self.backend.list_snapshots(GuestRef(found.node, found.vmid, found.type))
            snapshots = tuple((s.name, s.snaptime, s.vmstate) for s in listed)
        return plan_proxmox(request, ProxmoxObserved(view, snapshots), dry_run=self.ctx.dry_run)

    def _task(
        self, index: int, node: str, submit: Callable[[], str], done: Callable[[Guest | None], bool], guest_id: int
    ) -> float | None:
        """Submit a task once and follow its UPID; after a restart look at the guest before submitting again."""
        step = self.ctx.steps()[index]
        upid = (step.external_ids or {}).get("upid")
        if upid:
            task = self.backend.task_status(node, upid)
            if not task.done:
                if self.ctx.waited_too_long(index):
                    raise StepFailed("Timeout", f"task {upid} still runs")
                return self.poll
            if not task.succeeded:
                raise StepFailed("TaskFailed", f"task {upid} ended with {task.exitstatus}")
            self.ctx.succeed(index, f"task {upid}: {task.exitstatus}")
            return None
        current = self.guest(node, guest_id)
        if current is not None and current.lock:
            return self.poll  # a task of ours (or someone's) still holds the guest
        if done(current):
            interrupted = step.state == StepState.RUNNING
            self.ctx.succeed(index, "found done" if interrupted else "nothing to do", skipped=not interrupted)
            return None
        if step.state == StepState.PENDING:
            self.ctx.begin(index)
        self.ctx.note(index, {"upid": submit()})
        return self.poll

    def stop_guest(self, index: int, request: Request) -> float | None:
        """REPLACE: stop the guest when it runs (a rollback needs it stopped)."""
        ref = self.ref(request)
        return self._task(index, ref.node, lambda: self.backend.stop(ref),
                          lambda g: g is None or g.status == "stopped", ref.vmid)  # fmt: skip

    def rollback(self, index: int, request: Request) -> float | None:
        """REPLACE: roll the guest back to the snapshot (idempotent, so a resubmit after a crash is harmless)."""
        ref = self.ref(request)
        submit = lambda: self.backend.rollback_snapshot(ref, str(request.snapshot))  # noqa: E731
        return self._task(index, ref.node, submit, lambda _g: False, ref.vmid)

    def start_guest(self, index: int, request: Request) -> float | None:
        """REPLACE: start the guest again if it ran before."""
        if self.ctx.plan.vm_status != "running":
            self.ctx.succeed(index, "the guest was stopped before the restore; left stopped", skipped=True)
            return None
        ref = self.ref(request)
        return self._task(index, ref.node, lambda: self.backend.start(ref),
                          lambda g: g is not None and g.status == "running", ref.vmid)  # fmt: skip

    def clone(self, index: int, request: Request) -> float | None:
        """NEW: a full clone from the snapshot under a vmid recorded before the call."""
        ref = self.ref(request)
        ids = self.ctx.steps()[index].external_ids or {}
        if not ids.get("newVmid"):
            self.ctx.begin(index, {"newVmid": str(self.backend.next_vmid())})
            ids = self.ctx.steps()[index].external_ids or {}
        newid, name = int(ids["newVmid"]), str(self.ctx.plan.new_vm_name)
        existing = self.guest(ref.node, newid)
        if existing is not None and existing.name != name:
            raise StepFailed("VmidTaken", f"vmid {newid} was taken by {existing.name} before the clone")
        submit = lambda: self.backend.clone(  # noqa: E731
            ref,
            newid,
            name=name,
            snapshot=str(request.snapshot),
            full=True,
            description=f"restored by {self.ctx.owner}",
        )
        wait = self._task(index, ref.node, submit, lambda g: g is not None and not g.lock, newid)
        step = self.ctx.steps()[index]
        if (step.external_ids or {}).get("upid") or step.state in (StepState.SUCCEEDED, StepState.SKIPPED):
            self.ctx.record(CreatedResource(type="proxmox-guest", id=str(newid), name=name, step=CLONE))
        return wait

    def finalize(self, index: int, request: Request) -> float | None:
        """Record the result."""
        clone = self.ctx.resources("proxmox-guest")
        vm_id = clone[-1].id if clone else str(request.vmid)
        name = self.ctx.plan.new_vm_name
        verb = "cloned" if request.mode == "NEW" else "rolled back"
        message = f"{verb} guest {request.vmid} to snapshot {request.snapshot}" + (
            f" as {name} ({vm_id}), stopped" if request.mode == "NEW" else ""
        )
        self.ctx.write(result=RestoreResult(vm_id=vm_id, vm_name=name, message=message))
        self.ctx.succeed(index, message)
        self.ctx.event("Normal", "Restored", message)
        return None

    def cleanup(self, record: CleanupStatus) -> bool:
        """Proxmox: daytwo deletes no guests; say what is left (in ``record``)."""
        for guest in self.ctx.resources("proxmox-guest"):
            record.skipped = [*(record.skipped or []), f"guest {guest.id}: kept; remove it by hand"]
        return True
