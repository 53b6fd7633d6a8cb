"""horcrux endpoints daytwo has nothing behind: one table, one generated route each, all answering 501.

Each still requires a permission (reads ``vms:read``, writes ``nodes:admin``) so an anonymous or
under-privileged caller is refused before being told it is not implemented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daytwo.api.deps import Principal, require
from fastapi import APIRouter

from ._shared import not_implemented

__all__ = ["UNSUPPORTED", "router"]

#: (method, path, what, why)
UNSUPPORTED: tuple[tuple[str, str, str, str], ...] = (
    (
        "POST",
        "/api/vms",
        "Creating VMs",
        "daytwo manages existing Proxmox guests (ProxmoxNode); create them in Proxmox",
    ),
    ("DELETE", "/api/vms/{id}", "Deleting VMs", "daytwo does not delete guests; delete them in Proxmox"),
    (
        "POST",
        "/api/vms/{id}/clone",
        "Cloning VMs",
        "no daytwo kind clones guests; use a RestoreJob (mode NEW) from a snapshot",
    ),
    ("POST", "/api/cloudinit/{vm_id}", "Cloud-init ISOs", "daytwo does not provision guests"),
    ("DELETE", "/api/cloudinit/{vm_id}", "Cloud-init ISOs", "daytwo does not provision guests"),
    (
        "DELETE",
        "/api/backups/{id}",
        "Deleting single backups",
        "backups are deleted by their SnapshotPolicy's retention",
    ),
    (
        "POST",
        "/api/backups/retention/{target_id}",
        "Ad-hoc retention",
        "set retention on the backup job (SnapshotPolicy)",
    ),
    ("GET", "/api/templates", "Templates", "daytwo has no template kind"),
    ("POST", "/api/templates", "Templates", "daytwo has no template kind"),
    ("GET", "/api/templates/{id}", "Templates", "daytwo has no template kind"),
    ("POST", "/api/templates/{id}/clone", "Templates", "daytwo has no template kind"),
    ("DELETE", "/api/templates/{id}", "Templates", "daytwo has no template kind"),
    ("GET", "/api/storage/pools", "Storage pools", "daytwo does not manage storage"),
    ("POST", "/api/storage/pools", "Storage pools", "daytwo does not manage storage"),
    ("GET", "/api/storage/pools/{id}", "Storage pools", "daytwo does not manage storage"),
    ("DELETE", "/api/storage/pools/{id}", "Storage pools", "daytwo does not manage storage"),
    ("POST", "/api/storage/pools/{pool_id}/volumes", "Storage volumes", "daytwo does not manage storage"),
    ("GET", "/api/cni/networks", "CNI networks", "daytwo does not manage networking"),
    ("POST", "/api/cni/networks", "CNI networks", "daytwo does not manage networking"),
    ("GET", "/api/cni/networks/{name}", "CNI networks", "daytwo does not manage networking"),
    ("DELETE", "/api/cni/networks/{name}", "CNI networks", "daytwo does not manage networking"),
    ("POST", "/api/cni/attach", "CNI attachment", "daytwo does not manage networking"),
    ("POST", "/api/cni/detach", "CNI attachment", "daytwo does not manage networking"),
    ("GET", "/api/network-policies", "Network policies", "daytwo does not manage networking"),
    ("POST", "/api/network-policies", "Network policies", "daytwo does not manage networking"),
    ("GET", "/api/network-policies/{id}", "Network policies", "daytwo does not manage networking"),
    ("DELETE", "/api/network-policies/{id}", "Network policies", "daytwo does not manage networking"),
    ("GET", "/api/network-policies/{id}/iptables", "Network policies", "daytwo does not manage networking"),
    ("POST", "/api/console/{vm_id}/vnc", "Console access", "the facade does not proxy consoles; use the Proxmox UI"),
    (
        "GET",
        "/api/console/{vm_id}/websocket",
        "Console access",
        "the facade does not proxy consoles; use the Proxmox UI",
    ),
    (
        "GET",
        "/api/console/ticket/{ticket_id}",
        "Console access",
        "the facade does not proxy consoles; use the Proxmox UI",
    ),
    (
        "POST",
        "/api/cluster/nodes/{name}",
        "Joining cluster nodes",
        "add a ProxmoxNode (pmi POST /api/proxmox/nodes) instead",
    ),
    ("GET", "/api/cluster/architecture", "Cluster architecture", "daytwo does not record CPU architectures"),
    ("POST", "/api/cluster/find-node", "Placement", "daytwo does not place guests"),
    ("GET", "/api/ha/resources", "High availability", "daytwo does not manage Proxmox HA"),
    ("POST", "/api/ha/resources", "High availability", "daytwo does not manage Proxmox HA"),
    ("DELETE", "/api/ha/resources/{vm_id}", "High availability", "daytwo does not manage Proxmox HA"),
    ("GET", "/api/ha/status", "High availability", "daytwo does not manage Proxmox HA"),
    ("GET", "/api/ha/groups", "High availability", "daytwo does not manage Proxmox HA"),
    ("POST", "/api/ha/groups", "High availability", "daytwo does not manage Proxmox HA"),
    (
        "POST",
        "/api/migrate/{vm_id}",
        "Proxmox guest migration",
        "daytwo migrates OpenStack hosts only (AggregateMigration)",
    ),
    ("GET", "/api/migrate/{vm_id}/status", "Proxmox guest migration", "daytwo migrates OpenStack hosts only"),
    ("GET", "/api/firewall/rules", "Firewall", "daytwo does not manage firewalls"),
    ("POST", "/api/firewall/rules", "Firewall", "daytwo does not manage firewalls"),
    ("DELETE", "/api/firewall/rules/{id}", "Firewall", "daytwo does not manage firewalls"),
    ("GET", "/api/firewall/security-groups", "Firewall", "daytwo does not manage firewalls"),
    ("GET", "/api/firewall/security-groups/{name}", "Firewall", "daytwo does not manage firewalls"),
    ("POST", "/api/firewall/{scope}/apply", "Firewall", "daytwo does not manage firewalls"),
    ("GET", "/api/gpu/devices", "GPU passthrough", "daytwo does not manage host devices (VFIO)"),
    ("POST", "/api/gpu/devices/scan", "GPU passthrough", "daytwo does not manage host devices (VFIO)"),
    ("GET", "/api/gpu/devices/{pci_address}", "GPU passthrough", "daytwo does not manage host devices (VFIO)"),
    (
        "POST",
        "/api/gpu/devices/{pci_address}/bind-vfio",
        "GPU passthrough",
        "daytwo does not manage host devices (VFIO)",
    ),
    (
        "POST",
        "/api/gpu/devices/{pci_address}/unbind-vfio",
        "GPU passthrough",
        "daytwo does not manage host devices (VFIO)",
    ),
    (
        "GET",
        "/api/gpu/devices/{pci_address}/iommu-group",
        "GPU passthrough",
        "daytwo does not manage host devices (VFIO)",
    ),
    ("GET", "/api/gpu/iommu-status", "GPU passthrough", "daytwo does not manage host devices (VFIO)"),
    ("GET", "/api/users", "User administration", "manage users through the facade's auth (api-keys) and Kubernetes"),
    ("POST", "/api/users", "User administration", "users register at /api/auth/register; roles are set in Kubernetes"),
    ("DELETE", "/api/users/{id}", "User administration", "delete the user's Secret in Kubernetes"),
    ("GET", "/api/roles", "Roles", "daytwo's roles are viewer, operator, admin and superadmin (api/README.md)"),
    (
        "GET",
        "/api/permissions/{user_id}",
        "Per-path permissions",
        "permissions follow the role; Kubernetes RBAC decides",
    ),
    (
        "POST",
        "/api/permissions/{user_id}",
        "Per-path permissions",
        "permissions follow the role; Kubernetes RBAC decides",
    ),
    ("GET", "/api/tls/config", "TLS configuration", "TLS is the ingress's job (chart values)"),
    ("POST", "/api/tls/config", "TLS configuration", "TLS is the ingress's job (chart values)"),
    ("GET", "/api/tls/certificates", "TLS certificates", "TLS is the ingress's job (chart values)"),
    ("POST", "/api/tls/certificate/generate", "TLS certificates", "TLS is the ingress's job (chart values)"),
    ("GET", "/api/vault/config", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("POST", "/api/vault/config", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("GET", "/api/vault/secret/{path}", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("POST", "/api/vault/secret/{path}", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("DELETE", "/api/vault/secret/{path}", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("GET", "/api/vault/secrets/{path}", "Vault", "daytwo keeps credentials in Kubernetes Secrets"),
    ("GET", "/api/observability/config", "OpenTelemetry", "scrape /horcrux/metrics or the facade's /metrics"),
    ("POST", "/api/observability/config", "OpenTelemetry", "scrape /horcrux/metrics or the facade's /metrics"),
    ("POST", "/api/observability/export/metrics", "OpenTelemetry", "scrape /horcrux/metrics or the facade's /metrics"),
    (
        "GET",
        "/api/alerts/rules",
        "Alert rules",
        "alert with Prometheus rules on /horcrux/metrics; webhooks carry events",
    ),
    ("POST", "/api/alerts/rules", "Alert rules", "alert with Prometheus rules on /horcrux/metrics"),
    ("DELETE", "/api/alerts/rules/{rule_id}", "Alert rules", "alert with Prometheus rules on /horcrux/metrics"),
    ("GET", "/api/alerts/active", "Alerts", "alert with Prometheus rules on /horcrux/metrics"),
    ("GET", "/api/alerts/history", "Alerts", "alert with Prometheus rules on /horcrux/metrics"),
    ("POST", "/api/alerts/{rule_id}/{target}/acknowledge", "Alerts", "alert with Prometheus rules on /horcrux/metrics"),
    ("GET", "/api/alerts/notifications", "Notification channels", "use /api/webhooks"),
    ("POST", "/api/alerts/notifications", "Notification channels", "use /api/webhooks"),
    ("POST", "/api/audit/export", "Audit export to a server file", "read /api/audit/events (paginated) instead"),
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


for _method, _path, _what, _why in UNSUPPORTED:
    router.add_api_route(
        _path,
        _handler(_what, _why, "vms:read" if _method == "GET" else "nodes:admin"),
        methods=[_method],
        status_code=501,
        response_model=None,
        responses=NOT_IMPLEMENTED,
        summary=f"{_what} (not implemented)",
        name=f"unsupported_{_method.lower()}_{_path}",
    )
