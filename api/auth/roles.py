"""Roles and the permissions they grant: pending < viewer < operator < admin < superadmin, deny by default.

``pending`` is what self-registration gives (when it is enabled at all): the account may log in, see
itself (horcrux ``/api/auth/verify``, multicloud ``/auth/me``), change its password and log out, and
nothing else: every data route answers 403 until an administrator grants a role
(``python -m daytwo.api.auth.admin set-role <user> <role>`` in the facade's Pod). Its Kubernetes
group ``daytwo:pending`` is bound to nothing by the chart (and the facade may not impersonate it).

Permission names are the references' (``drift:read``, ``restore:admin``, ...) plus, for the APIs
that name none, ``<area>:read|write|admin`` in the same style. Each role grants its own list plus
everything of the roles below it. :func:`check_permission` refuses a name that is not in the table,
so a typo in ``require("drfit:read")`` fails when the route is defined, not as a silent 403.

Kubernetes has the last word on writes: the facade impersonates group ``daytwo:<role>``, bound by
the chart (rbac-user-roles.yaml) to daytwo-viewer / daytwo-editor / daytwo-admin.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "GRANTS",
    "PENDING",
    "PERMISSIONS",
    "ROLES",
    "Role",
    "check_permission",
    "group_of",
    "permissions_of",
    "role_at_least",
]

Role = Literal["pending", "viewer", "operator", "admin", "superadmin"]
ROLES: tuple[Role, ...] = ("pending", "viewer", "operator", "admin", "superadmin")
#: The role of a self-registered account until an administrator grants another.
PENDING: Role = "pending"

#: What each role adds to the one below it.
GRANTS: dict[Role, tuple[str, ...]] = {
    "pending": (),  # awaiting approval: nothing beyond its own account (routes that need no permission)
    "viewer": (
        "dashboard:read",  # platform9 dashboards, multicloud /dashboard/stats
        "drift:read",
        "restore:read",
        "snapshots:read",
        "tenant_health:read",
        "inventory:read",  # servers/volumes/hypervisors, multicloud /inventory, spot aggregates, host VMs
        "history:read",
        "metrics:read",
        "vms:read",  # horcrux /api/vms, snapshots tree
        "backups:read",
        "monitoring:read",
        "nodes:read",  # pmi /api/proxmox/nodes, horcrux /api/cluster/nodes
        "migrations:read",  # spot preview/command log
        "credentials:read",  # multicloud /credentials (never the secret fields)
        "billing:read",
        "settings:read",
        "preferences:write",  # one's own /user-preferences
    ),
    "operator": (
        "drift:write",  # acknowledge/resolve DriftEvents, DriftRules
        "restore:write",  # NEW restores
        "snapshots:write",  # run-now, on-demand snapshots, assignments
        "vms:write",  # start/stop
        "backups:write",
        "nodes:write",  # pmi start/stop/restart, test connection
        "migrations:write",  # spot execute-migration, clear-log
        "inventory:write",  # multicloud sync trigger
        "webhooks:read",
    ),
    "admin": (
        "restore:admin",  # REPLACE restores (plus the confirmation string)
        "snapshots:admin",  # snapshot policies
        "settings:admin",  # branding
        "tenant_health:admin",
        "credentials:write",  # multicloud credentials, pmi node create/delete (Secrets)
        "nodes:admin",
        "webhooks:write",
        "audit:read",
        "users:read",
        "apikeys:write",
    ),
    "superadmin": (
        "users:admin",  # create users with any role, change roles
        "audit:admin",
    ),
}

PERMISSIONS: frozenset[str] = frozenset(p for grants in GRANTS.values() for p in grants)


def _cumulative() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    so_far: set[str] = set()
    for role in ROLES:
        so_far |= set(GRANTS[role])
        table[role] = frozenset(so_far)
    return table


_BY_ROLE = _cumulative()


def permissions_of(role: str) -> frozenset[str]:
    """Everything ``role`` may do (an unknown role may do nothing)."""
    return _BY_ROLE.get(role, frozenset())


def check_permission(permission: str) -> str:
    """Return ``permission`` if the table knows it; ValueError (at route definition) otherwise."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; add it to api/auth/roles.py GRANTS")
    return permission


def role_at_least(role: str, minimum: Role) -> bool:
    """Whether ``role`` is ``minimum`` or above it (unknown roles are below everything)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(minimum)


def group_of(role: str) -> str:
    """The Kubernetes group the facade impersonates for ``role``."""
    return f"daytwo:{role}"
