"""Turn OpenStack API JSON (as the services return it) into the backend's records.

Duplicate scan: the converters share a form (``id=``, ``name=``, one keyword per field) with each other and
with the Proxmox models' ``from_api``; deliberate because each reads its own service's JSON keys into its own
record (the fields they have in common are read once: ``_cinder_common``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._records import (
    Aggregate,
    Domain,
    FixedIP,
    Flavor,
    FloatingIP,
    Hypervisor,
    Image,
    Network,
    Port,
    Project,
    Role,
    RoleAssignment,
    SecurityGroup,
    SecurityGroupRule,
    Server,
    ServerAddress,
    Snapshot,
    Subnet,
    User,
    Volume,
    VolumeAttachment,
)

__all__ = [
    "aggregate",
    "domain",
    "flavor",
    "floating_ip",
    "hypervisor",
    "image",
    "network",
    "port",
    "project",
    "role",
    "role_assignment",
    "security_group",
    "server",
    "snapshot",
    "subnet",
    "user",
    "volume",
]

Json = Mapping[str, Any]

_IMAGE_BASE_KEYS = frozenset(
    {
        "id", "name", "status", "visibility", "size", "disk_format", "container_format", "min_disk",
        "min_ram", "owner", "created_at", "updated_at", "checksum", "os_hash_algo", "os_hash_value",
        "protected", "tags", "virtual_size", "file", "schema", "self", "direct_url", "locations",
        "os_hidden", "stores",
    }
)  # fmt: skip


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def domain(d: Json) -> Domain:
    """A Keystone domain."""
    return Domain(
        id=d["id"],
        name=d.get("name") or "",
        enabled=bool(d.get("enabled", True)),
        description=d.get("description") or "",
    )


def project(p: Json) -> Project:
    """A Keystone project."""
    return Project(
        id=p["id"],
        name=p.get("name") or "",
        domain_id=p.get("domain_id") or "",
        enabled=bool(p.get("enabled", True)),
        description=p.get("description") or "",
        parent_id=p.get("parent_id"),
    )


def user(u: Json) -> User:
    """A Keystone user."""
    return User(
        id=u["id"],
        name=u.get("name") or "",
        domain_id=u.get("domain_id") or "",
        enabled=bool(u.get("enabled", True)),
        email=u.get("email"),
    )


def role(r: Json) -> Role:
    """A Keystone role."""
    return Role(id=r["id"], name=r.get("name") or "")


def role_assignment(a: Json) -> RoleAssignment:
    """A Keystone role assignment."""
    scope = a.get("scope") or {}
    return RoleAssignment(
        role_id=str((a.get("role") or {}).get("id", "")),
        user_id=(a.get("user") or {}).get("id"),
        group_id=(a.get("group") or {}).get("id"),
        project_id=(scope.get("project") or {}).get("id"),
        domain_id=(scope.get("domain") or {}).get("id"),
    )


def flavor(f: Json, *, embedded: bool = False) -> Flavor:
    """A flavor, or a server's embedded flavor (microversion >= 2.47, which carries no id)."""
    return Flavor(
        id=None if embedded else f.get("id"),
        name=str(f.get("original_name") or f.get("name") or ""),
        vcpus=int(f.get("vcpus") or 0),
        ram_mb=int(f.get("ram") or 0),
        disk_gb=int(f.get("disk") or 0),
        extra_specs=_str_map(f.get("extra_specs")),
        is_public=bool(f.get("os-flavor-access:is_public", True)),
    )


def _addresses(raw: Any) -> tuple[ServerAddress, ...]:
    out: list[ServerAddress] = []
    if isinstance(raw, Mapping):
        for net, entries in raw.items():
            for entry in entries or ():
                out.append(
                    ServerAddress(
                        network=str(net),
                        address=str(entry.get("addr", "")),
                        version=int(entry.get("version") or 4),
                        kind=str(entry.get("OS-EXT-IPS:type", "fixed")),
                    )
                )
    return tuple(out)


def server(s: Json, flavors_by_id: Mapping[str, Flavor] | None = None) -> Server:
    """A server; before microversion 2.47 its flavor comes from ``flavors_by_id``."""
    raw_flavor = s.get("flavor") or {}
    if "original_name" in raw_flavor or "vcpus" in raw_flavor:
        flv = flavor(raw_flavor, embedded=True)
    elif flavors_by_id and raw_flavor.get("id") in flavors_by_id:
        flv = flavors_by_id[raw_flavor["id"]]
    else:
        flv = Flavor(id=raw_flavor.get("id"), name="", vcpus=0, ram_mb=0, disk_gb=0)
    image = s.get("image")
    fault = s.get("fault")
    return Server(
        id=s["id"],
        name=s.get("name") or "",
        status=s.get("status") or "UNKNOWN",
        project_id=s.get("tenant_id"),
        user_id=s.get("user_id"),
        flavor=flv,
        image_id=(image.get("id") or None) if isinstance(image, Mapping) else None,
        host=s.get("OS-EXT-SRV-ATTR:host"),
        hypervisor_hostname=s.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
        availability_zone=s.get("OS-EXT-AZ:availability_zone"),
        addresses=_addresses(s.get("addresses")),
        volume_ids=tuple(str(v["id"]) for v in s.get("os-extended-volumes:volumes_attached") or () if "id" in v),
        created_at=s.get("created"),
        updated_at=s.get("updated"),
        task_state=s.get("OS-EXT-STS:task_state"),
        fault=str(fault["message"]) if isinstance(fault, Mapping) and fault.get("message") else None,
        metadata=_str_map(s.get("metadata")),
    )


def hypervisor(h: Json) -> Hypervisor:
    """A hypervisor (capacity fields are None on microversions >= 2.88)."""
    service = h.get("service") or {}
    return Hypervisor(
        id=str(h["id"]),
        hostname=h.get("hypervisor_hostname") or "",
        host=service.get("host"),
        state=h.get("state"),
        status=h.get("status"),
        hypervisor_type=h.get("hypervisor_type"),
        vcpus=_opt_int(h.get("vcpus")),
        vcpus_used=_opt_int(h.get("vcpus_used")),
        memory_mb=_opt_int(h.get("memory_mb")),
        memory_mb_used=_opt_int(h.get("memory_mb_used")),
        local_gb=_opt_int(h.get("local_gb")),
        local_gb_used=_opt_int(h.get("local_gb_used")),
        running_vms=_opt_int(h.get("running_vms")),
    )


def aggregate(a: Json) -> Aggregate:
    """A host aggregate."""
    return Aggregate(
        id=str(a["id"]),
        name=a.get("name") or "",
        availability_zone=a.get("availability_zone"),
        hosts=tuple(a.get("hosts") or ()),
        metadata=_str_map(a.get("metadata")),
        uuid=a.get("uuid"),
    )


def volume(v: Json) -> Volume:
    """A Cinder volume."""
    attachments = tuple(
        VolumeAttachment(
            server_id=str(a.get("server_id", "")),
            device=a.get("device"),
            attachment_id=a.get("attachment_id"),
            host=a.get("host_name"),
        )
        for a in v.get("attachments") or ()
    )
    return Volume(
        id=v["id"],
        name=v.get("name") or "",
        status=v.get("status") or "unknown",
        size_gb=int(v.get("size") or 0),
        project_id=v.get("os-vol-tenant-attr:tenant_id"),
        volume_type=v.get("volume_type"),
        bootable=_bool(v.get("bootable")),
        availability_zone=v.get("availability_zone"),
        attachments=attachments,
        snapshot_id=v.get("snapshot_id"),
        source_volume_id=v.get("source_volid"),
        **_cinder_common(v),
    )


def _cinder_common(o: Json) -> dict[str, Any]:
    """The fields every Cinder object carries alike (``_CinderObject``): times, description, metadata."""
    return {
        "created_at": o.get("created_at"),
        "updated_at": o.get("updated_at"),
        "description": o.get("description") or "",
        "metadata": _str_map(o.get("metadata")),
    }


def snapshot(s: Json) -> Snapshot:
    """A Cinder snapshot."""
    return Snapshot(
        id=s["id"],
        name=s.get("name") or "",
        volume_id=s.get("volume_id") or "",
        status=s.get("status") or "unknown",
        size_gb=int(s.get("size") or 0),
        project_id=s.get("os-extended-snapshot-attributes:project_id"),
        **_cinder_common(s),
    )


def network(n: Json) -> Network:
    """A Neutron network."""
    return Network(
        id=n["id"],
        name=n.get("name") or "",
        project_id=n.get("project_id") or n.get("tenant_id"),
        status=n.get("status"),
        shared=bool(n.get("shared")),
        external=bool(n.get("router:external")),
        subnet_ids=tuple(n.get("subnets") or ()),
        mtu=_opt_int(n.get("mtu")),
    )


# Duplicate scan: the converters share a form (one record from one API object's keys); deliberate because each
# reads its own object's keys.
def subnet(s: Json) -> Subnet:
    """A Neutron subnet."""
    return Subnet(
        id=s["id"],
        name=s.get("name") or "",
        network_id=s["network_id"],
        project_id=s.get("project_id") or s.get("tenant_id"),
        cidr=s["cidr"],
        ip_version=int(s.get("ip_version") or 4),
        gateway_ip=s.get("gateway_ip"),
        allocation_pools=tuple((str(p["start"]), str(p["end"])) for p in s.get("allocation_pools") or ()),
        enable_dhcp=bool(s.get("enable_dhcp")),
    )


def port(p: Json) -> Port:
    """A Neutron port."""
    return Port(
        id=p["id"],
        name=p.get("name") or "",
        network_id=p["network_id"],
        project_id=p.get("project_id") or p.get("tenant_id"),
        status=p.get("status"),
        mac_address=p.get("mac_address"),
        device_id=p.get("device_id") or None,
        device_owner=p.get("device_owner") or None,
        fixed_ips=tuple(
            FixedIP(subnet_id=f.get("subnet_id"), ip_address=f.get("ip_address")) for f in p.get("fixed_ips") or ()
        ),
        security_group_ids=tuple(p.get("security_groups") or ()),
    )


def floating_ip(f: Json) -> FloatingIP:
    """A Neutron floating IP."""
    return FloatingIP(
        id=f["id"],
        floating_ip_address=f["floating_ip_address"],
        fixed_ip_address=f.get("fixed_ip_address"),
        port_id=f.get("port_id"),
        router_id=f.get("router_id"),
        floating_network_id=f.get("floating_network_id"),
        project_id=f.get("project_id") or f.get("tenant_id"),
        status=f.get("status"),
    )


def security_group(g: Json) -> SecurityGroup:
    """A Neutron security group with its embedded rules."""
    rules = tuple(
        SecurityGroupRule(
            id=str(r.get("id", "")),
            direction=str(r.get("direction", "")),
            ethertype=r.get("ethertype"),
            protocol=r.get("protocol"),
            port_range_min=_opt_int(r.get("port_range_min")),
            port_range_max=_opt_int(r.get("port_range_max")),
            remote_ip_prefix=r.get("remote_ip_prefix"),
            remote_group_id=r.get("remote_group_id"),
        )
        for r in g.get("security_group_rules") or ()
    )
    return SecurityGroup(
        id=g["id"],
        name=g.get("name") or "",
        project_id=g.get("project_id") or g.get("tenant_id"),
        description=g.get("description") or "",
        rules=rules,
    )


def image(i: Json) -> Image:
    """A Glance image; non-standard top-level keys are its properties."""
    return Image(
        id=i["id"],
        name=i.get("name") or "",
        status=i.get("status") or "unknown",
        visibility=i.get("visibility"),
        size_bytes=_opt_int(i.get("size")),
        disk_format=i.get("disk_format"),
        container_format=i.get("container_format"),
        min_disk_gb=int(i.get("min_disk") or 0),
        min_ram_mb=int(i.get("min_ram") or 0),
        owner_id=i.get("owner"),
        created_at=i.get("created_at"),
        properties={k: v for k, v in _str_map(i).items() if k not in _IMAGE_BASE_KEYS},
    )
