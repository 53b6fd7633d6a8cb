"""Plain, immutable records the OpenStack backend returns; callers never see SDK resource objects.

Duplicate scan: the records share a form (a frozen dataclass, ``id``, ``name``, typed fields); deliberate,
one record per API object; the fields Cinder's objects share are declared once (``_CinderObject``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Aggregate",
    "Domain",
    "FixedIP",
    "Flavor",
    "FloatingIP",
    "Hypervisor",
    "Identity",
    "Image",
    "Network",
    "Port",
    "Project",
    "QuotaUsage",
    "Role",
    "RoleAssignment",
    "SecurityGroup",
    "SecurityGroupRule",
    "Server",
    "ServerAddress",
    "ServerSpec",
    "Snapshot",
    "Subnet",
    "SubnetFreeIPs",
    "User",
    "Volume",
    "VolumeAttachment",
]

_EMPTY: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the connection authenticated as, and which services its catalog offers."""

    user_id: str
    project_id: str | None
    domain_id: str | None
    roles: tuple[str, ...]
    services: tuple[str, ...]
    expires_at: str | None


@dataclass(frozen=True, slots=True)
class Domain:
    """A Keystone domain."""

    id: str
    name: str
    enabled: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class Project:
    """A Keystone project (tenant)."""

    id: str
    name: str
    domain_id: str
    enabled: bool
    description: str = ""
    parent_id: str | None = None


# Duplicate scan: the records are frozen dataclasses of one form; deliberate because there is one per API object.
@dataclass(frozen=True, slots=True)
class User:
    """A Keystone user."""

    id: str
    name: str
    domain_id: str
    enabled: bool
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """A Keystone role."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """One role granted to a user or group on a project or domain."""

    role_id: str
    user_id: str | None
    group_id: str | None
    project_id: str | None
    domain_id: str | None


@dataclass(frozen=True, slots=True)
class Flavor:
    """A Nova flavor; ``extra_specs`` carries GPU properties such as ``resources:VGPU``."""

    id: str | None
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    is_public: bool = True


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """One address of a server on a network (``kind`` is ``fixed`` or ``floating``)."""

    network: str
    address: str
    version: int
    kind: str


@dataclass(frozen=True, slots=True)
class Server:
    """A Nova server with its flavor and the host it runs on."""

    id: str
    name: str
    status: str
    project_id: str | None
    user_id: str | None
    flavor: Flavor
    image_id: str | None
    host: str | None
    hypervisor_hostname: str | None
    availability_zone: str | None
    addresses: tuple[ServerAddress, ...]
    volume_ids: tuple[str, ...]
    created_at: str | None
    updated_at: str | None
    task_state: str | None = None
    fault: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def boots_from_volume(self) -> bool:
        """True when the server has no image, i.e. its root disk is a Cinder volume."""
        return not self.image_id


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """What to boot: from an existing volume (``boot_volume_id``) with pre-created ports."""

    name: str
    flavor_id: str
    boot_volume_id: str | None = None
    image_id: str | None = None
    port_ids: tuple[str, ...] = ()
    network_ids: tuple[str, ...] = ()
    availability_zone: str | None = None
    key_name: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    delete_volume_on_termination: bool = False


@dataclass(frozen=True, slots=True)
class Hypervisor:
    """A compute node with its capacity and usage (``None`` when the cloud does not report it)."""

    id: str
    hostname: str
    host: str | None
    state: str | None
    status: str | None
    hypervisor_type: str | None
    vcpus: int | None
    vcpus_used: int | None
    memory_mb: int | None
    memory_mb_used: int | None
    local_gb: int | None
    local_gb_used: int | None
    running_vms: int | None


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A Nova host aggregate."""

    id: str
    name: str
    availability_zone: str | None
    hosts: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    uuid: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """One quota line: ``limit`` (-1 = unlimited), ``in_use`` and ``reserved``."""

    service: str
    project_id: str
    resource: str
    limit: int
    in_use: int
    reserved: int = 0


@dataclass(frozen=True, slots=True)
class VolumeAttachment:
    """Where a volume is attached."""

    server_id: str
    device: str | None
    attachment_id: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _CinderObject:
    """What Cinder volumes and snapshots both carry (keyword-only): times, description and metadata."""

    created_at: str | None
    updated_at: str | None
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Volume(_CinderObject):
    """A Cinder volume with its metadata."""

    id: str
    name: str
    status: str
    size_gb: int
    project_id: str | None
    volume_type: str | None
    bootable: bool
    availability_zone: str | None
    attachments: tuple[VolumeAttachment, ...]
    snapshot_id: str | None
    source_volume_id: str | None


@dataclass(frozen=True, slots=True)
class Snapshot(_CinderObject):
    """A Cinder volume snapshot."""

    id: str
    name: str
    volume_id: str
    status: str
    size_gb: int
    project_id: str | None


@dataclass(frozen=True, slots=True)
class Network:
    """A Neutron network."""

    id: str
    name: str
    project_id: str | None
    status: str | None
    shared: bool
    external: bool
    subnet_ids: tuple[str, ...]
    mtu: int | None = None


@dataclass(frozen=True, slots=True)
class Subnet:
    """A Neutron subnet; ``allocation_pools`` are (start, end) address pairs."""

    id: str
    name: str
    network_id: str
    project_id: str | None
    cidr: str
    ip_version: int
    gateway_ip: str | None
    allocation_pools: tuple[tuple[str, str], ...]
    enable_dhcp: bool


@dataclass(frozen=True, slots=True)
class FixedIP:
    """A fixed address of a port."""

    subnet_id: str | None
    ip_address: str | None


@dataclass(frozen=True, slots=True)
class Port:
    """A Neutron port."""

    id: str
    name: str
    network_id: str
    project_id: str | None
    status: str | None
    mac_address: str | None
    device_id: str | None
    device_owner: str | None
    fixed_ips: tuple[FixedIP, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FloatingIP:
    """A Neutron floating IP."""

    id: str
    floating_ip_address: str
    fixed_ip_address: str | None
    port_id: str | None
    router_id: str | None
    floating_network_id: str | None
    project_id: str | None
    status: str | None


@dataclass(frozen=True, slots=True)
class SecurityGroupRule:
    """One rule of a security group."""

    id: str
    direction: str
    ethertype: str | None
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A Neutron security group with its rules."""

    id: str
    name: str
    project_id: str | None
    description: str
    rules: tuple[SecurityGroupRule, ...]


@dataclass(frozen=True, slots=True)
class SubnetFreeIPs:
    """Unused addresses of a subnet: allocation pools minus addresses held by ports and the gateway."""

    subnet_id: str
    subnet_name: str
    network_id: str
    cidr: str
    gateway_ip: str | None
    available_ips: tuple[str, ...]
    available_count: int


@dataclass(frozen=True, slots=True)
class Image:
    """A Glance image."""

    id: str
    name: str
    status: str
    visibility: str | None
    size_bytes: int | None
    disk_format: str | None
    container_format: str | None
    min_disk_gb: int
    min_ram_mb: int
    owner_id: str | None
    created_at: str | None
    properties: Mapping[str, str] = field(default_factory=lambda: dict(_EMPTY))
