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

horcrux roles and privileges (``/api/roles``, ``/api/permissions/{user}``) are data here too:
:data:`HORCRUX_ROLES` names each horcrux role's daytwo base role and its privileges, and
:data:`PRIVILEGES` what each privilege grants (daytwo permissions) and which Kubernetes group the
facade impersonates for it (the weakest daytwo role group whose RBAC covers its writes). A grant is a
(path, privilege) pair stored on the account; it applies to requests whose route path is the grant's
path or below it (``/api/vms/100`` covers ``/api/vms/100/start``; ``/api/vms/*`` every VM; ``/`` or
``*`` everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GRANTS",
    "HORCRUX_ROLES",
    "PENDING",
    "PERMISSIONS",
    "PRIVILEGES",
    "ROLES",
    "Grant",
    "HorcruxRole",
    "Privilege",
    "Role",
    "check_permission",
    "grant_covers",
    "group_of",
    "groups_rank",
    "horcrux_role_of",
    "path_covers",
    "permissions_of",
    "privilege_permissions",
    "role_at_least",
    "strongest_group_role",
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
        "users:write",  # horcrux /api/users create/delete, /api/permissions grants (never of a superadmin)
        "apikeys:write",
        "vms:admin",  # create/delete/clone guests (horcrux VmAllocate; 501 today)
        "storage:admin",  # storage pools and volumes (horcrux DatastoreAllocate, PoolAllocate; 501 today)
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


# -- horcrux roles and privileges ---------------------------------------------------------------


@dataclass(frozen=True)
class Privilege:
    """A horcrux privilege: the daytwo permissions it grants and the daytwo role whose group covers it."""

    permissions: tuple[str, ...]
    #: the facade impersonates ``daytwo:<group_role>`` for a holder (RBAC has the last word)
    group_role: Role


#: horcrux privilege -> daytwo permissions + the Kubernetes group (``daytwo:<role>``) its writes need.
PRIVILEGES: dict[str, Privilege] = {
    "VmAudit": Privilege(("vms:read", "monitoring:read", "snapshots:read", "backups:read", "nodes:read"), "viewer"),
    "VmPowerMgmt": Privilege(("vms:write",), "operator"),  # start/stop = ProxmoxNode actions (daytwo-editor)
    "VmSnapshot": Privilege(("snapshots:write",), "operator"),  # one-VM SnapshotPolicies
    "VmBackup": Privilege(("backups:write",), "operator"),  # backups and backup jobs
    "VmConfig": Privilege(("vms:write",), "operator"),  # daytwo changes no guest config beyond power
    "VmAllocate": Privilege(("vms:admin",), "admin"),  # create/delete/clone guests
    "DatastoreAudit": Privilege(("inventory:read", "history:read", "metrics:read"), "viewer"),
    "DatastoreAllocate": Privilege(("storage:admin",), "admin"),
    "PoolAllocate": Privilege(("storage:admin",), "admin"),
    "SysAudit": Privilege(("audit:read", "users:read", "nodes:read", "monitoring:read"), "viewer"),
}


@dataclass(frozen=True)
class HorcruxRole:
    """A horcrux role: its description, the daytwo role an account of it gets, and its privileges."""

    description: str
    role: Role
    privileges: tuple[str, ...]


#: The horcrux roles (``GET /api/roles``): each account gets the daytwo ``role`` plus the privileges on ``/``.
HORCRUX_ROLES: dict[str, HorcruxRole] = {
    "Administrator": HorcruxRole("Full system access", "admin", ("*",)),
    "VmAdmin": HorcruxRole(
        "VM management", "viewer", ("VmAllocate", "VmConfig", "VmPowerMgmt", "VmSnapshot", "VmBackup", "VmAudit")
    ),
    "VmUser": HorcruxRole("Basic VM operations", "viewer", ("VmPowerMgmt", "VmAudit")),
    "StorageAdmin": HorcruxRole(
        "Storage management", "viewer", ("DatastoreAllocate", "DatastoreAudit", "PoolAllocate")
    ),
    "Auditor": HorcruxRole("Read-only access", "viewer", ("VmAudit", "DatastoreAudit", "SysAudit")),
}

#: (path, privilege) held by an account.
Grant = tuple[str, str]

for _privilege in PRIVILEGES.values():
    for _permission in _privilege.permissions:
        check_permission(_permission)


def privilege_permissions(privilege: str) -> frozenset[str]:
    """The daytwo permissions ``privilege`` grants (none for an unknown name)."""
    found = PRIVILEGES.get(privilege)
    return frozenset(found.permissions) if found else frozenset()


def _normal(path: str) -> str:
    path = path.strip()
    if path in ("", "*", "/", "/*"):
        return "/"
    if path.endswith("/*"):
        path = path[:-2]
    return "/" + path.strip("/")


def path_covers(scope: str, path: str | None) -> bool:
    """Whether a grant on ``scope`` covers a request for route path ``path`` (None: outside any request).

    ``/`` (also ``*`` or ``/*``) covers everything; ``/api/vms/*`` and ``/api/vms`` cover ``/api/vms``
    and every path below it; ``/api/vms/100`` covers ``/api/vms/100`` and ``/api/vms/100/start``,
    never ``/api/vms/1000``. Segments compare exactly.
    """
    scope = _normal(scope)
    if scope == "/":
        return True
    if path is None:
        return False
    target = "/" + path.strip("/")
    return target == scope or target.startswith(scope + "/")


def grant_covers(grant: Grant, permission: str, path: str | None) -> bool:
    """Whether ``grant`` (path, privilege) gives ``permission`` for a request on ``path``."""
    scope, privilege = grant
    return permission in privilege_permissions(privilege) and path_covers(scope, path)


def groups_rank(role: str) -> int:
    """Strength of ``daytwo:<role>`` (-1 for an unknown role)."""
    return ROLES.index(role) if role in ROLES else -1


def strongest_group_role(role: str, grants: tuple[Grant, ...]) -> str:
    """The daytwo role whose group the facade impersonates: the account's own, or a stronger one a grant needs.

    A ``pending`` account with no grants stays ``pending`` (its group is bound to nothing).
    """
    best = role
    for _, privilege in grants:
        found = PRIVILEGES.get(privilege)
        if found is not None and groups_rank(found.group_role) > groups_rank(best):
            best = found.group_role
    return best


def horcrux_role_of(stored: str, role: str) -> str:
    """The horcrux role name an account shows: the one it was created with while its daytwo role still
    matches it, otherwise the daytwo role's own name (set with ``set-role`` or registration)."""
    found = HORCRUX_ROLES.get(stored)
    if found is not None and found.role == role:
        return stored
    return "Administrator" if role in ("admin", "superadmin") else role
