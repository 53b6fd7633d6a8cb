"""RestoreJob planning: what a restore will do, decided from plain observations (no I/O).

The handler reads the cloud into an :class:`OpenStackObserved` (or a :class:`ProxmoxObserved`) and
gets back a :class:`Plan`: ``status.plan`` (VM, flavor, boot volume, restore points newest first,
networks with the addresses each IP strategy will request and a sample of free ones, quota, warnings)
and, when the restore cannot run, the condition reason and a message that says what to do.

IP strategies (pf9's): ``NEW_IPS`` lets Neutron pick; ``TRY_SAME_IPS`` asks for the original
addresses and falls back to new ones where they are taken; ``SAME_IPS_OR_FAIL`` refuses when one is
taken; ``MANUAL_IP`` asks for ``manualIps`` (one per network; other networks get new addresses).
In REPLACE mode the VM's own addresses count as free: deleting it releases them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from daytwo.crds.restorejob import CONFIRM_PREFIX, MAX_FREE_IPS, MAX_RESTORE_POINTS

__all__ = [
    "FAILURE_MESSAGES",
    "GuestView",
    "NetworkFree",
    "OpenStackObserved",
    "Plan",
    "PortView",
    "ProxmoxObserved",
    "QuotaLine",
    "Request",
    "SnapshotView",
    "SubnetFree",
    "VmView",
    "VolumeView",
    "boot_volume",
    "new_vm_name",
    "plan_openstack",
    "plan_proxmox",
    "request_from_spec",
]

#: Devices Nova gives the root disk of a boot-from-volume server.
BOOT_DEVICES = ("/dev/vda", "/dev/sda", "/dev/xvda", "/dev/hda")
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


def request_from_spec(spec: Mapping[str, Any], status: Mapping[str, Any] | None = None) -> Request:
    """The request a spec makes; an accepted retry with an IP strategy override wins over ``ipStrategy``."""
    retry = (status or {}).get("retry") or {}
    strategy = str(spec.get("ipStrategy", "NEW_IPS"))
    if retry.get("accepted") and retry.get("ipStrategy"):
        strategy = str(retry["ipStrategy"])
    source = spec.get("source") or {}
    openstack, proxmox = source.get("openstack") or {}, source.get("proxmox") or {}
    return Request(
        provider="proxmox" if proxmox else "openstack",
        mode=str(spec.get("mode", "NEW")),
        ip_strategy=strategy,
        manual_ips={m["networkId"]: m["ip"] for m in spec.get("manualIps") or []},
        new_vm_name=spec.get("newVmName"),
        confirm=spec.get("confirm"),
        project=openstack.get("project"),
        vm_id=openstack.get("vmId"),
        restore_point_id=openstack.get("restorePointId"),
        node=proxmox.get("node"),
        vmid=proxmox.get("vmid"),
        snapshot=proxmox.get("snapshot"),
    )


@dataclass(frozen=True)
class VmView:
    """The source server."""

    id: str
    name: str
    status: str
    project_id: str | None
    flavor_name: str
    flavor_id: str | None
    vcpus: int
    ram_mb: int
    availability_zone: str | None
    image_id: str | None
    volume_ids: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    task_state: str | None = None


@dataclass(frozen=True)
class VolumeView:
    """A volume attached to the source server."""

    id: str
    name: str
    status: str
    size_gb: int
    bootable: bool
    volume_type: str | None
    devices: Mapping[str, str] = field(default_factory=dict)  # server id -> device


@dataclass(frozen=True)
class SnapshotView:
    """A Cinder snapshot."""

    id: str
    name: str
    volume_id: str
    status: str
    size_gb: int
    created_at: str | None


@dataclass(frozen=True)
class PortView:
    """A Neutron port (of the source VM, or one holding an address the restore wants)."""

    id: str
    network_id: str
    ips: tuple[str, ...]
    device_id: str | None = None
    mac_address: str | None = None
    security_group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubnetFree:
    """Free addresses of a subnet."""

    id: str
    name: str
    cidr: str
    gateway_ip: str | None
    sample: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class NetworkFree:
    """A network's name and its subnets' free addresses."""

    id: str
    name: str | None
    subnets: tuple[SubnetFree, ...]


@dataclass(frozen=True)
class QuotaLine:
    """One quota of the project."""

    resource: str
    limit: int
    in_use: int


@dataclass(frozen=True)
class OpenStackObserved:
    """Everything the plan needs, read by the handler; None means "does not exist"."""

    project_id: str | None
    project_name: str | None
    project_error: str | None = None
    vm: VmView | None = None
    volumes: tuple[VolumeView, ...] = ()
    snapshot: SnapshotView | None = None
    restore_points: tuple[SnapshotView, ...] = ()
    ports: tuple[PortView, ...] = ()
    networks: Mapping[str, NetworkFree] = field(default_factory=dict)
    holders: Mapping[tuple[str, str], tuple[PortView, ...]] = field(default_factory=dict)
    quotas: tuple[QuotaLine, ...] = ()
    floating_ips: tuple[str, ...] = ()
    name_taken: bool = False
    scope_error: str | None = None


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

    def to_status(self) -> dict[str, Any]:
        """``status.plan`` with the warnings."""
        out = dict(self.status)
        if self.warnings:
            out["warnings"] = [w[:1024] for w in self.warnings[:20]]
        return {k: v for k, v in out.items() if v is not None}

    @property
    def summary(self) -> str:
        """One line for conditions."""
        status = self.status
        action = "replace" if status.get("mode") == "REPLACE" else "restore side by side as"
        what = f"{status.get('vmName')} ({status.get('vmId')})"
        point = status.get("restorePointName") or status.get("restorePointId") or ""
        return f"{action} {status.get('newVmName')} from {point} of {what}"


def new_vm_name(request: Request, vm_name: str) -> str:
    """REPLACE keeps the name; NEW uses newVmName or ``<vm>-restored-<restore point, 8 chars>``."""
    if request.mode == "REPLACE":
        return vm_name
    if request.new_vm_name:
        return request.new_vm_name
    point = (request.restore_point_id or request.snapshot or "point")[:8]
    return f"{vm_name[: 63 - len(point) - 10]}-restored-{point}"


def boot_volume(vm: VmView, volumes: Sequence[VolumeView]) -> VolumeView | None:
    """The volume the server boots from: attached as its root device, else its only bootable one."""
    attached = [v for v in volumes if v.id in vm.volume_ids]
    for volume in attached:
        if volume.devices.get(vm.id) in BOOT_DEVICES:
            return volume
    bootable = [v for v in attached if v.bootable]
    return bootable[0] if len(bootable) == 1 else None


def _points(points: Sequence[SnapshotView]) -> list[dict[str, Any]]:
    newest = sorted(points, key=lambda p: p.created_at or "", reverse=True)[:MAX_RESTORE_POINTS]
    return [
        {"id": p.id, "name": p.name, "createdAt": p.created_at, "sizeGb": p.size_gb, "status": p.status} for p in newest
    ]


def _in_subnets(ip: str, network: NetworkFree | None) -> bool:
    if network is None or not network.subnets:
        return True  # cannot tell: let Neutron decide
    try:
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(s.cidr, strict=False) for s in network.subnets)
    except ValueError:
        return False


def _network_entry(
    request: Request, observed: OpenStackObserved, port: PortView, own_ports: set[str], plan: Plan
) -> dict[str, Any]:
    """One planned network: the addresses the strategy requests and whether they are free."""
    network = observed.networks.get(port.network_id)
    label = (network.name if network else None) or port.network_id
    strategy = request.ip_strategy
    if strategy == "NEW_IPS":
        wanted: list[str] = []
    elif strategy == "MANUAL_IP":
        manual = request.manual_ips.get(port.network_id)
        wanted = [manual] if manual else []
        if manual and not _in_subnets(manual, network):
            plan.refuse("InvalidManualIp", f"manual address {manual} is in no subnet of network {label}")
    else:
        wanted = list(port.ips)
    held: list[str] = []
    for ip in wanted:
        others = [p for p in observed.holders.get((port.network_id, ip), ()) if p.id not in own_ports]
        held += [f"{ip} by port {p.id}" + (f" of {p.device_id}" if p.device_id else "") for p in others]
    available = not held
    if held and strategy in ("SAME_IPS_OR_FAIL", "MANUAL_IP"):
        plan.refuse("IpUnavailable", f"{strategy}: on network {label} {', '.join(held)} is in use")
    elif held and strategy == "TRY_SAME_IPS":
        plan.warnings.append(
            f"on network {label} {', '.join(held)} is in use: the restore will take a new address there"
        )
    subnets = [
        {
            "subnetId": s.id,
            "subnetName": s.name,
            "cidr": s.cidr,
            "gatewayIp": s.gateway_ip,
            "availableIps": list(s.sample[:MAX_FREE_IPS]),
            "availableCount": s.count,
        }
        for s in (network.subnets if network else ())
    ][:8]
    return {
        "networkId": port.network_id,
        "networkName": network.name if network else None,
        "originalPortId": port.id,
        "originalIps": list(port.ips),
        "plannedIps": wanted,
        "available": available,
        "heldBy": held[:16] or None,
        "securityGroupIds": list(port.security_group_ids) or None,
        "subnets": subnets or None,
    }


def _quota(request: Request, vm: VmView, size_gb: int, quotas: Sequence[QuotaLine], plan: Plan) -> list[dict[str, Any]]:
    """What the restore adds to each quota; REPLACE frees the VM's compute before it boots the new one."""
    needed = {"volumes": 1, "gigabytes": size_gb}
    if request.mode == "NEW":
        needed.update(instances=1, cores=vm.vcpus, ram=vm.ram_mb)
    lines = []
    for quota in quotas:
        if quota.resource not in needed:
            continue
        want = needed[quota.resource]
        ok = quota.limit < 0 or quota.in_use + want <= quota.limit
        lines.append(
            {"resource": quota.resource, "limit": quota.limit, "inUse": quota.in_use, "needed": want, "ok": ok}
        )
        if not ok:
            plan.refuse(
                "QuotaExceeded",
                f"quota {quota.resource}: {quota.in_use} of {quota.limit} in use, the restore needs {want} more",
            )
    return lines


def plan_openstack(request: Request, observed: OpenStackObserved, *, dry_run: bool) -> Plan:
    """The plan of an OpenStack restore, refusing (first reason wins) what cannot run."""
    plan = Plan(
        {
            "mode": request.mode,
            "ipStrategy": request.ip_strategy,
            "projectId": observed.project_id,
            "projectName": observed.project_name,
            "vmId": request.vm_id,
            "restorePointId": request.restore_point_id,
        }
    )
    if observed.project_id is None:
        return plan.refuse("ProjectNotFound", observed.project_error or f"no project {request.project!r}")
    if observed.scope_error:
        return plan.refuse("CredentialScope", observed.scope_error)
    vm = observed.vm
    if vm is None:
        return plan.refuse("VmNotFound", f"no server {request.vm_id} (as the credential sees it)")
    plan.status.update(
        vmName=vm.name,
        vmStatus=vm.status,
        flavor=vm.flavor_name,
        flavorId=vm.flavor_id,
        availabilityZone=vm.availability_zone,
        newVmName=new_vm_name(request, vm.name),
        vmMetadata={k: v for k, v in vm.metadata.items() if not k.startswith("daytwo.io/")} or None,
    )
    if vm.project_id != observed.project_id:
        return plan.refuse(
            "VmNotInProject", f"server {vm.id} is in project {vm.project_id}, not {observed.project_name}"
        )
    if vm.image_id:
        return plan.refuse("NotBootFromVolume", f"server {vm.name} boots from image {vm.image_id}, not from a volume")
    boot = boot_volume(vm, observed.volumes)
    if boot is None:
        return plan.refuse("NotBootFromVolume", f"server {vm.name} has no identifiable boot volume")
    plan.status.update(bootVolumeId=boot.id, volumeType=boot.volume_type)
    plan.status["restorePoints"] = _points(observed.restore_points) or None
    snapshot = observed.snapshot
    if snapshot is None:
        return plan.refuse("RestorePointNotFound", f"no snapshot {request.restore_point_id}")
    plan.status.update(
        restorePointName=snapshot.name,
        restorePointCreatedAt=snapshot.created_at,
        restorePointSizeGb=snapshot.size_gb,
    )
    if snapshot.volume_id != boot.id:
        plan.refuse(
            "RestorePointNotFound",
            f"snapshot {snapshot.id} is of volume {snapshot.volume_id}, not of {vm.name}'s boot volume {boot.id}",
        )
    elif snapshot.status != "available":
        plan.refuse("RestorePointNotAvailable", f"snapshot {snapshot.id} is {snapshot.status}, not available")
    if request.mode == "REPLACE":
        expected = f"{CONFIRM_PREFIX}{vm.name}"
        if request.confirm != expected:
            plan.refuse("ConfirmationMismatch", f"confirm is {request.confirm!r} but the VM is named {vm.name!r}: "
                        f"it must be exactly {expected!r}")  # fmt: skip
        if vm.task_state:
            plan.refuse("VmBusy", f"server {vm.name} is {vm.task_state}; wait until it settles")
    own = {p.id for p in observed.ports} if request.mode == "REPLACE" else set()
    attached_nets = {p.network_id for p in observed.ports}
    unknown = sorted(set(request.manual_ips) - attached_nets)
    if request.ip_strategy == "MANUAL_IP" and unknown:
        plan.refuse("InvalidManualIp", f"manualIps names network(s) {', '.join(unknown)} the VM is not attached to")
    plan.status["networks"] = [_network_entry(request, observed, port, own, plan) for port in observed.ports][:16]
    plan.status["quota"] = _quota(request, vm, snapshot.size_gb, observed.quotas, plan) or None
    plan.status["quotaOk"] = all(line["ok"] for line in plan.status["quota"] or [])
    _warnings(request, observed, vm, boot, plan, dry_run)
    return plan


def _warnings(
    request: Request, observed: OpenStackObserved, vm: VmView, boot: VolumeView, plan: Plan, dry_run: bool
) -> None:
    data = [v.id for v in observed.volumes if v.id != boot.id]
    if request.mode == "REPLACE":
        plan.warnings.insert(
            0,
            f"DESTRUCTIVE: deletes server {vm.name} ({vm.id}) and its ports before restoring; its boot volume "
            f"{boot.id} is kept (cleanupStorage deletes it)",
        )
        if observed.floating_ips:
            plan.warnings.append(
                f"floating IP(s) {', '.join(observed.floating_ips)} lose their port; associate them again afterwards"
            )
    if data:
        plan.warnings.append(f"only the boot volume is restored; data volume(s) {', '.join(data)} are not attached")
    if request.mode == "NEW" and observed.name_taken:
        plan.warnings.append(f"a server named {plan.status['newVmName']} already exists in the project")
    if not observed.ports:
        plan.warnings.append("the VM has no ports: the restored VM gets no network")
    if dry_run:
        plan.warnings.append("dry run: every step is validated and recorded, nothing is changed")


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
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
