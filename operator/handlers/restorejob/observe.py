"""Read what an OpenStack restore plan needs (in a worker thread), as plain observations.

About 14 calls for a VM with one port: projects, server, its volumes, the restore point and the boot
volume's other snapshots, its ports, each network's subnets and ports (free addresses), who holds
each address the IP strategy asks for, Nova and Cinder quota, floating IPs, and servers named like
the new one. Creates go through a backend scoped to the VM's project (a password credential is
re-scoped; an application credential must belong to that project), so the new volume, ports and
server belong to the VM's project, not the credential's.
"""

from __future__ import annotations

from dataclasses import replace

from daytwo.crds.restorejob import MAX_FREE_IPS

from ...backends.openstack import OpenStackConnectionParams, RestoreBackend, Server, Volume, connect
from ...errors import NotFound
from ...reconcile.restorejob.openstack import (
    NetworkFree,
    OpenStackObserved,
    PortView,
    QuotaLine,
    SnapshotView,
    SubnetFree,
    VmView,
    VolumeView,
    boot_volume,
)
from ...reconcile.restorejob.plan import Request, new_vm_name
from ..credentials import openstack_params, resolve_credential

__all__ = ["JOB_UID_KEY", "OWNER_KEY", "backends_for", "observe", "scoped_backend", "snapshot_view", "volume_view"]

OWNER_KEY = "daytwo.io/owner"
JOB_UID_KEY = "daytwo.io/job-uid"
_QUOTAS = ("instances", "cores", "ram", "volumes", "gigabytes")


def backends_for(namespace: str, credential: str) -> tuple[RestoreBackend, OpenStackConnectionParams]:
    """The backend as CloudCredential ``credential`` authenticates (reads), and its parameters (to re-scope)."""
    params = openstack_params(resolve_credential(namespace, credential))
    return connect(params), params


def scoped_backend(params: OpenStackConnectionParams, project_id: str) -> RestoreBackend:
    """A backend whose token is scoped to ``project_id`` (creates land in that project)."""
    if params.uses_application_credential or params.project_id == project_id:
        return connect(params)
    return connect(replace(params, project_id=project_id, project_name=None))


def vm_view(server: Server, flavor_id: str | None) -> VmView:
    """The plan's view of a server."""
    return VmView(
        id=server.id,
        name=server.name,
        status=server.status,
        project_id=server.project_id,
        flavor_name=server.flavor.name,
        flavor_id=flavor_id,
        vcpus=server.flavor.vcpus,
        ram_mb=server.flavor.ram_mb,
        availability_zone=server.availability_zone,
        image_id=server.image_id,
        volume_ids=server.volume_ids,
        metadata=dict(server.metadata),
        task_state=server.task_state,
    )


def volume_view(volume: Volume) -> VolumeView:
    """The plan's view of a volume."""
    return VolumeView(
        id=volume.id,
        name=volume.name,
        status=volume.status,
        size_gb=volume.size_gb,
        bootable=volume.bootable,
        volume_type=volume.volume_type,
        devices={a.server_id: a.device or "" for a in volume.attachments},
    )


def snapshot_view(backend: RestoreBackend, snapshot_id: str) -> SnapshotView | None:
    """A snapshot, or None when it does not exist."""
    try:
        snap = backend.get_snapshot(snapshot_id)
    except NotFound:
        return None
    return SnapshotView(snap.id, snap.name, snap.volume_id, snap.status, snap.size_gb, snap.created_at)


def _project(backend: RestoreBackend, wanted: str) -> tuple[str | None, str | None, str | None]:
    """(id, name, error) of the project named or with id ``wanted``."""
    projects = backend.list_projects()
    by_id = [p for p in projects if p.id == wanted]
    matches = by_id or [p for p in projects if p.name == wanted]
    if not matches:
        return None, None, f"no project named or with id {wanted!r}"
    if len(matches) > 1:
        return None, None, f"several domains have a project named {wanted!r}; use its id"
    return matches[0].id, matches[0].name, None


def _scope_error(backend: RestoreBackend, params: OpenStackConnectionParams, project_id: str) -> str | None:
    if not params.uses_application_credential:
        return None
    own = backend.whoami().project_id
    if own == project_id:
        return None
    return (
        f"the CloudCredential's application credential is bound to project {own} and cannot create in {project_id}; "
        "use a password credential (it is re-scoped) or an application credential of that project"
    )


def _wanted_ips(request: Request, ports: list[PortView]) -> list[tuple[str, str]]:
    if request.ip_strategy == "NEW_IPS":
        return []
    if request.ip_strategy == "MANUAL_IP":
        return sorted(request.manual_ips.items())
    return [(p.network_id, ip) for p in ports for ip in p.ips]


def _network_names(server: Server, ports: list[PortView]) -> dict[str, str]:
    """Network id -> name, from the server's addresses (keyed by network name) matched to port addresses."""
    by_ip = {address.address: address.network for address in server.addresses if address.kind == "fixed"}
    names: dict[str, str] = {}
    for port in ports:
        for ip in port.ips:
            if ip in by_ip:
                names.setdefault(port.network_id, by_ip[ip])
    return names


def _networks(backend: RestoreBackend, server: Server, ports: list[PortView]) -> dict[str, NetworkFree]:
    names = _network_names(server, ports)
    out: dict[str, NetworkFree] = {}
    for network_id in dict.fromkeys(p.network_id for p in ports):
        subnets = tuple(
            SubnetFree(s.subnet_id, s.subnet_name, s.cidr, s.gateway_ip, s.available_ips, s.available_count)
            for s in backend.free_ips(network_id, limit_per_subnet=MAX_FREE_IPS)
        )
        out[network_id] = NetworkFree(network_id, names.get(network_id), subnets)
    return out


def observe(
    admin: RestoreBackend, params: OpenStackConnectionParams, request: Request, job_uid: str
) -> OpenStackObserved:
    """Everything :func:`plan_openstack` needs; stops early at the first thing that does not exist."""
    project_id, project_name, error = _project(admin, str(request.project))
    if project_id is None:
        return OpenStackObserved(None, None, project_error=error)
    base = OpenStackObserved(project_id, project_name, scope_error=_scope_error(admin, params, project_id))
    try:
        server = admin.get_server(str(request.vm_id))
    except NotFound:
        return base
    flavor_id = server.flavor.id or next((f.id for f in admin.list_flavors() if f.name == server.flavor.name), None)
    vm = vm_view(server, flavor_id)
    volumes = []
    for volume_id in server.volume_ids:
        try:
            volumes.append(volume_view(admin.get_volume(volume_id)))
        except NotFound:
            continue
    boot = boot_volume(vm, volumes)
    points = admin.list_snapshots(volume_id=boot.id) if boot else []
    ports = [
        PortView(p.id, p.network_id, tuple(f.ip_address for f in p.fixed_ips if f.ip_address), p.device_id,
                 p.mac_address, p.security_group_ids)
        for p in admin.list_ports(device_id=server.id)
    ]  # fmt: skip
    holders = {
        (network_id, ip): tuple(
            PortView(p.id, p.network_id, tuple(f.ip_address or "" for f in p.fixed_ips), p.device_id)
            for p in admin.ports_with_ip(network_id, ip)
        )
        for network_id, ip in _wanted_ips(request, ports)
    }
    usage = [*admin.get_compute_quota_usage(project_id), *admin.get_volume_quota_usage(project_id)]
    port_ids = {p.id for p in ports}
    floating = tuple(
        f.floating_ip_address for f in admin.list_floating_ips(project_id=project_id) if f.port_id in port_ids
    )
    taken = request.mode == "NEW" and any(
        s.metadata.get(JOB_UID_KEY) != job_uid
        for s in admin.find_servers(new_vm_name(request, server.name), project_id=project_id)
    )
    return replace(
        base,
        vm=vm,
        volumes=tuple(volumes),
        snapshot=snapshot_view(admin, str(request.restore_point_id)),
        restore_points=tuple(
            SnapshotView(p.id, p.name, p.volume_id, p.status, p.size_gb, p.created_at) for p in points
        ),
        ports=tuple(ports),
        networks=_networks(admin, server, ports),
        holders=holders,
        quotas=tuple(QuotaLine(q.resource, q.limit, q.in_use) for q in usage if q.resource in _QUOTAS),
        floating_ips=floating,
        name_taken=taken,
    )
