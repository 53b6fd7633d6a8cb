"""horcrux endpoints daytwo has nothing behind: one table, one generated route each, all answering 501.

Each still requires a permission (reads ``vms:read``; writes ``vms:admin`` under ``/api/vms`` (horcrux
VmAllocate), ``storage:admin`` under ``/api/storage`` (DatastoreAllocate), else ``nodes:admin``) so an anonymous or
under-privileged caller is refused before being told it is not implemented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daytwo.api.deps import Principal, require
from fastapi import APIRouter

from ._shared import not_implemented

__all__ = ["UNSUPPORTED", "router"]

#: (what, why, "METHOD /path" of each route) in route order; :data:`UNSUPPORTED` is the flat table.
_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Creating VMs",
        "daytwo manages existing Proxmox guests (ProxmoxNode); create them in Proxmox",
        ("POST /api/vms",),
    ),
    ("Deleting VMs", "daytwo does not delete guests; delete them in Proxmox", ("DELETE /api/vms/{id}",)),
    (
        "Cloning VMs",
        "no daytwo kind clones guests; use a RestoreJob (mode NEW) from a snapshot",
        ("POST /api/vms/{id}/clone",),
    ),
    (
        "Cloud-init ISOs",
        "daytwo does not provision guests",
        ("POST /api/cloudinit/{vm_id}", "DELETE /api/cloudinit/{vm_id}"),
    ),
    (
        "Deleting single backups",
        "backups are deleted by their SnapshotPolicy's retention",
        ("DELETE /api/backups/{id}",),
    ),
    (
        "Ad-hoc retention",
        "set retention on the backup job (SnapshotPolicy)",
        ("POST /api/backups/retention/{target_id}",),
    ),
    (
        "Templates",
        "daytwo has no template kind",
        (
            "GET /api/templates",
            "POST /api/templates",
            "GET /api/templates/{id}",
            "POST /api/templates/{id}/clone",
            "DELETE /api/templates/{id}",
        ),
    ),
    (
        "Storage pools",
        "daytwo does not manage storage",
        (
            "GET /api/storage/pools",
            "POST /api/storage/pools",
            "GET /api/storage/pools/{id}",
            "DELETE /api/storage/pools/{id}",
        ),
    ),
    ("Storage volumes", "daytwo does not manage storage", ("POST /api/storage/pools/{pool_id}/volumes",)),
    (
        "CNI networks",
        "daytwo does not manage networking",
        (
            "GET /api/cni/networks",
            "POST /api/cni/networks",
            "GET /api/cni/networks/{name}",
            "DELETE /api/cni/networks/{name}",
        ),
    ),
    ("CNI attachment", "daytwo does not manage networking", ("POST /api/cni/attach", "POST /api/cni/detach")),
    (
        "Network policies",
        "daytwo does not manage networking",
        (
            "GET /api/network-policies",
            "POST /api/network-policies",
            "GET /api/network-policies/{id}",
            "DELETE /api/network-policies/{id}",
            "GET /api/network-policies/{id}/iptables",
        ),
    ),
    (
        "Console access",
        "the facade does not proxy consoles; use the Proxmox UI",
        ("POST /api/console/{vm_id}/vnc", "GET /api/console/{vm_id}/websocket", "GET /api/console/ticket/{ticket_id}"),
    ),
    (
        "Joining cluster nodes",
        "add a ProxmoxNode (pmi POST /api/proxmox/nodes) instead",
        ("POST /api/cluster/nodes/{name}",),
    ),
    ("Cluster architecture", "daytwo does not record CPU architectures", ("GET /api/cluster/architecture",)),
    ("Placement", "daytwo does not place guests", ("POST /api/cluster/find-node",)),
    (
        "High availability",
        "daytwo does not manage Proxmox HA",
        (
            "GET /api/ha/resources",
            "POST /api/ha/resources",
            "DELETE /api/ha/resources/{vm_id}",
            "GET /api/ha/status",
            "GET /api/ha/groups",
            "POST /api/ha/groups",
        ),
    ),
    (
        "Proxmox guest migration",
        "daytwo migrates OpenStack hosts only (AggregateMigration)",
        ("POST /api/migrate/{vm_id}",),
    ),
    ("Proxmox guest migration", "daytwo migrates OpenStack hosts only", ("GET /api/migrate/{vm_id}/status",)),
    (
        "Firewall",
        "daytwo does not manage firewalls",
        (
            "GET /api/firewall/rules",
            "POST /api/firewall/rules",
            "DELETE /api/firewall/rules/{id}",
            "GET /api/firewall/security-groups",
            "GET /api/firewall/security-groups/{name}",
            "POST /api/firewall/{scope}/apply",
        ),
    ),
    (
        "GPU passthrough",
        "daytwo does not manage host devices (VFIO)",
        (
            "GET /api/gpu/devices",
            "POST /api/gpu/devices/scan",
            "GET /api/gpu/devices/{pci_address}",
            "POST /api/gpu/devices/{pci_address}/bind-vfio",
            "POST /api/gpu/devices/{pci_address}/unbind-vfio",
            "GET /api/gpu/devices/{pci_address}/iommu-group",
            "GET /api/gpu/iommu-status",
        ),
    ),
)
#: (method, path, what, why) of every 501 route.
UNSUPPORTED: tuple[tuple[str, str, str, str], ...] = tuple(
    (method, path, what, why)
    for what, why, routes in _GROUPS
    for method, path in (route.split(" ", 1) for route in routes)
)

router = APIRouter(tags=["not implemented"])

NOT_IMPLEMENTED: dict[int | str, dict[str, Any]] = {
    501: {"description": "Not implemented by daytwo (horcrux error envelope)"}
}


def _handler(what: str, why: str, permission: str) -> Callable[..., Any]:
    def handler(user: Principal = require(permission)) -> Any:
        raise not_implemented(what, why)

    handler.__doc__ = f"Not implemented by daytwo: {why}."
    return handler


def _permission(method: str, path: str) -> str:
    """What a 501 route still requires (a scoped horcrux grant, e.g. VmAllocate on /api/vms/100, reaches its 501)."""
    if method == "GET":
        return "vms:read"
    if path.startswith("/api/vms"):
        return "vms:admin"
    return "storage:admin" if path.startswith("/api/storage") else "nodes:admin"


for _method, _path, _what, _why in UNSUPPORTED:
    router.add_api_route(
        _path,
        _handler(_what, _why, _permission(_method, _path)),
        methods=[_method],
        status_code=501,
        response_model=None,
        responses=NOT_IMPLEMENTED,
        summary=f"{_what} (not implemented)",
        name=f"unsupported_{_method.lower()}_{_path}",
    )
