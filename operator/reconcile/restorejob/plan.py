"""RestoreJob planning: what a restore will do, decided from plain observations (no I/O).

The handler reads the cloud into an observation (:mod:`.openstack`,
:mod:`.proxmox`) and gets back a :class:`Plan`: ``status.plan`` and, when the restore
cannot run, the condition reason and a message that says what to do. This module holds what both
share: the request a spec makes, the plan, and the restored VM's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daytwo.crds.restorejob import RestoreJobSpec
from daytwo.crds.restorejob_status import RestorePlan, RetryStatus

__all__ = ["FAILURE_MESSAGES", "Plan", "Request", "new_vm_name", "plan_summary", "request_from_spec"]

#: A generic hint per refusal reason, appended to the specific message.
FAILURE_MESSAGES = {
    "ProjectNotFound": "check spec.source.openstack.project",
    "VmNotFound": "check spec.source.openstack.vmId",
    "NotBootFromVolume": "only boot-from-volume VMs can be restored from a Cinder snapshot",
    "RestorePointNotFound": "pick one of status.plan.restorePoints",
    "ConfirmationMismatch": "set spec.confirm to exactly the text above",
    "IpUnavailable": "free the address, or use ipStrategy TRY_SAME_IPS or NEW_IPS",
    "QuotaExceeded": "raise the project's quota or free resources",
}


@dataclass(frozen=True)
class Request:
    """What the spec (and an accepted retry's IP strategy override) asks for."""

    provider: str
    mode: str
    ip_strategy: str
    manual_ips: Mapping[str, str] = field(default_factory=dict)
    new_vm_name: str | None = None
    confirm: str | None = None
    project: str | None = None
    vm_id: str | None = None
    restore_point_id: str | None = None
    node: str | None = None
    vmid: int | None = None
    snapshot: str | None = None


def request_from_spec(spec: RestoreJobSpec, retry: RetryStatus | None = None) -> Request:
    """The request a spec makes; an accepted retry (``status.retry``) with an IP strategy override wins over
    ``ipStrategy``."""
    strategy = str(spec.ip_strategy)
    if retry is not None and retry.accepted and retry.ip_strategy:
        strategy = retry.ip_strategy
    openstack, proxmox = spec.source.openstack, spec.source.proxmox
    return Request(
        provider="proxmox" if proxmox else "openstack",
        mode=str(spec.mode),
        ip_strategy=strategy,
        manual_ips={m.network_id: m.ip for m in spec.manual_ips or []},
        new_vm_name=spec.new_vm_name,
        confirm=spec.confirm,
        project=openstack.project if openstack else None,
        vm_id=openstack.vm_id if openstack else None,
        restore_point_id=openstack.restore_point_id if openstack else None,
        node=proxmox.node if proxmox else None,
        vmid=proxmox.vmid if proxmox else None,
        snapshot=proxmox.snapshot if proxmox else None,
    )


@dataclass
class Plan:
    """``status.plan`` plus whether the restore can run, and if not why (reason, message)."""

    status: dict[str, Any]
    reason: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No refusal."""
        return self.reason is None

    def refuse(self, reason: str, message: str) -> Plan:
        """Record the first refusal (later ones are kept out of the way)."""
        if self.reason is None:
            hint = FAILURE_MESSAGES.get(reason)
            self.reason, self.message = reason, f"{message}; {hint}" if hint else message
        return self

    def to_status(self) -> RestorePlan:
        """``status.plan`` with the warnings (``status`` is the plan under construction, in its wire shape)."""
        out = dict(self.status)
        if self.warnings:
            out["warnings"] = [w[:1024] for w in self.warnings[:20]]
        return RestorePlan.model_validate({k: v for k, v in out.items() if v is not None})

    @property
    def summary(self) -> str:
        """One line for conditions."""
        return plan_summary(self.to_status())


def plan_summary(plan: RestorePlan) -> str:
    """One line for conditions, from ``status.plan``."""
    action = "replace" if plan.mode == "REPLACE" else "restore side by side as"
    point = plan.restore_point_name or plan.restore_point_id or ""
    return f"{action} {plan.new_vm_name} from {point} of {plan.vm_name} ({plan.vm_id})"


def new_vm_name(request: Request, vm_name: str) -> str:
    """REPLACE keeps the name; NEW uses newVmName or ``<vm>-restored-<restore point, 8 chars>``."""
    if request.mode == "REPLACE":
        return vm_name
    if request.new_vm_name:
        return request.new_vm_name
    point = (request.restore_point_id or request.snapshot or "point")[:8]
    return f"{vm_name[: 63 - len(point) - 10]}-restored-{point}"
