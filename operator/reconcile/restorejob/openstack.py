"""OpenStack restore planning: boot-from-volume check, restore points, IP strategies, quota, warnings.

IP strategies (pf9's): ``NEW_IPS`` lets Neutron pick; ``TRY_SAME_IPS`` asks for the original
addresses and falls back to new ones where they are taken; ``SAME_IPS_OR_FAIL`` refuses when one is
taken; ``MANUAL_IP`` asks for ``manualIps`` (one per network; other networks get new addresses).
In REPLACE mode the VM's own addresses count as free: deleting it releases them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from daytwo.crds.restorejob import CONFIRM_PREFIX, MAX_FREE_IPS, MAX_RESTORE_POINTS
from daytwo.crds.restorejob_status import InFlightCall

from ...shared.times import parse_time
from .plan import Plan, Request, new_vm_name

__all__ = [
    "BOOT_DEVICES",
    "NetworkFree",
    "OpenStackObserved",
    "PortView",
    "QuotaLine",
    "SnapshotView",
    "SubnetFree",
    "VmView",
    "VolumeView",
    "adopt",
    "boot_volume",
    "in_flight_wait",
    "plan_openstack",
]

#: Devices Nova gives the root disk of a boot-from-volume server.
BOOT_DEVICES = ("/dev/vda", "/dev/sda", "/dev/xvda", "/dev/hda")


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
    # Duplicate scan: the VM and restore-point checks share a form (refuse when missing, else report it);
    # deliberate because each reports its own fields.
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


class _Made(Protocol):
    @property
    def id(self) -> str: ...


M = TypeVar("M", bound=_Made)


def adopt(found: Sequence[M], recorded: Sequence[str]) -> tuple[M, list[M]]:
    """Of several objects one create step made (Nova and Cinder accept duplicate names, so a create sent
    again after a lost answer makes a second), the one to keep and the extras to delete: the one already
    recorded in status, else the oldest (by ``created_at`` where the record has one, then by id).
    ``found`` must not be empty."""
    ordered = sorted(
        found, key=lambda item: (item.id not in recorded, getattr(item, "created_at", None) or "", item.id)
    )
    return ordered[0], ordered[1:]


def in_flight_wait(in_flight: InFlightCall | None, step: str, holder: str, now: datetime) -> float:
    """Seconds to wait before ``step`` may look for what it made: while a create it sent from another
    (dead) operator process may still land (``status.inFlight``), else 0."""
    if in_flight is None or in_flight.step != step or in_flight.holder == holder:
        return 0.0
    until = parse_time(in_flight.until)
    return max(0.0, (until - now).total_seconds()) if until else 0.0
