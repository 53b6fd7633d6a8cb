"""pf9 infrastructure reads from the CloudCredential inventories; admin writes daytwo does not do answer 501."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import inventory as inv
from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9.common import page as page_of
from daytwo.api.views.platform9.common import sort_rows
from daytwo.api.views.statuses import credential_status
from fastapi import APIRouter, Query

from ._shared import ERRORS, PathId, estate, memo, not_implemented, policy_targets, volume_rows
from .monitoring import TimedRoute

__all__ = ["NOT_INVENTORIED", "UNSUPPORTED_WRITES", "router"]

router = APIRouter(tags=["infrastructure"], route_class=TimedRoute, responses=ERRORS)

SERVER_SORTS = ("vm_name", "status", "tenant_name", "flavor_name", "vcpus", "ram_mb", "disk_gb", "hypervisor_hostname")


def _rows(store: ObjectStore, name: str) -> list[dict[str, Any]]:
    builders = {
        "servers": inv.servers,
        "networks": inv.networks,
        "hypervisors": inv.hypervisors,
        "flavors": inv.flavors,
        "projects": inv.projects,
    }
    return memo(store).get(("infra", name), store.version("ConfigMap"), lambda: builders[name](estate(store)))


@router.get("/servers", response_model=models.ServerPage, summary="Servers (VMs) from the inventory")
def list_servers(
    store: StoreDep,
    domain_name: str | None = None,
    tenant_id: str | None = None,
    status: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
    sort_by: str | None = None,
    sort_dir: Annotated[str | None, Query(pattern="^(asc|desc)$")] = None,
    user: Principal = require("inventory:read"),
) -> dict[str, Any]:
    """Nova servers of every OpenStack CloudCredential inventory, with flavor sizes and host allocation."""
    rows = [
        r
        for r in _rows(store, "servers")
        if (not domain_name or r["domain_name"] == domain_name)
        and (not tenant_id or r["tenant_id"] == tenant_id)
        and (not status or r["status"] == status.upper())
    ]
    ordered = sort_rows(rows, sort_by, sort_dir, SERVER_SORTS)
    return {"items": page_of(ordered, page, page_size), "total": len(rows), "page": page, "page_size": page_size}


@router.get("/volumes", response_model=models.ItemList, summary="Volumes from the inventory")
def list_volumes(
    store: StoreDep,
    project_id: str | None = None,
    status: str | None = None,
    user: Principal = require("inventory:read"),
) -> dict[str, Any]:
    """Cinder volumes of every OpenStack inventory."""
    rows = [
        r
        for r in volume_rows(store)
        if (not project_id or r["project_id"] == project_id) and (not status or r["status"] == status)
    ]
    return {"items": rows, "total": len(rows)}


def _volume_metadata(store: ObjectStore) -> dict[str, dict[str, Any]]:
    def compute() -> dict[str, dict[str, Any]]:
        covering: dict[str, list[str]] = {}
        for policy, targets in policy_targets(store).items():
            for target in targets:
                covering.setdefault(str(target.get("id")), []).append(policy)
        return {
            v["volume_id"]: {
                "volume_id": v["volume_id"],
                "auto_snapshot": bool(covering.get(v["volume_id"])),
                "policies": covering.get(v["volume_id"], []),
            }
            for v in volume_rows(store)
        }

    return memo(store).get("volume-metadata", store.version("ConfigMap"), compute)


@router.get("/volumes/metadata/bulk", summary="Snapshot policy metadata of every volume")
def volumes_metadata(store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """Volume id -> whether a policy covers it, and which."""
    found = _volume_metadata(store)
    return {"volumes": found, "total": len(found)}


@router.get("/volumes/{volume_id}/metadata", summary="Snapshot policy metadata of one volume")
def volume_metadata(volume_id: PathId, store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """Whether a policy covers the volume, and which."""
    found = _volume_metadata(store).get(volume_id)
    if found is None:
        raise ApiError(404, f"Volume {volume_id!r} is in no synced inventory", "NOT_FOUND")
    return found


@router.get("/networks", response_model=models.ItemList, summary="Networks from the inventory")
def list_networks(store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """Neutron networks of every OpenStack inventory."""
    rows = _rows(store, "networks")
    return {"items": rows, "total": len(rows)}


@router.get("/hypervisors", response_model=models.ItemList, summary="Hypervisors from the inventory")
def list_hypervisors(store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """Hypervisors (inventory kind compute), else the hosts servers run on with their allocation."""
    rows = _rows(store, "hypervisors")
    return {"items": rows, "total": len(rows)}


@router.get("/flavors", response_model=models.ItemList, summary="Flavors from the inventory")
def list_flavors(store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """Flavors (inventory kind compute), else the flavors servers use."""
    rows = _rows(store, "flavors")
    return {"items": rows, "total": len(rows)}


@router.get("/projects", response_model=models.ItemList, summary="Projects (tenants) seen in the inventory")
def list_projects(
    store: StoreDep, domain_id: str | None = None, user: Principal = require("inventory:read")
) -> dict[str, Any]:
    """Every project id on a server, volume or network, with resource counts (names are not inventoried)."""
    rows = _rows(store, "projects")
    return {"items": rows, "total": len(rows)}


router.add_api_route(
    "/tenants",
    list_projects,
    response_model=models.ItemList,
    summary="Alias of /projects",
    description="Alias of /projects.",
    name="list_tenants",
)


@router.get("/domains", response_model=models.ItemList, summary="Domains of the OpenStack credentials")
def list_domains(store: StoreDep, user: Principal = require("inventory:read")) -> dict[str, Any]:
    """The domain each OpenStack CloudCredential authenticates in, with the projects its inventory saw."""
    projects = {
        inv_.credential: {(r.get("metadata") or {}).get("project_id") for r in inv_.records} - {None}
        for inv_ in estate(store).inventories
    }
    rows = []
    for cred in store.list("CloudCredential"):
        spec = cred.get("spec") or {}
        if spec.get("provider") != "openstack":
            continue
        identity = credential_status(cred, conditions=False).identity
        domain = (identity.account if identity else None) or (spec.get("openstack") or {}).get("projectDomainName")
        name = cred["metadata"]["name"]
        rows.append(
            {
                "domain_id": domain,
                "domain_name": (spec.get("openstack") or {}).get("projectDomainName") or domain,
                "credential": name,
                "project_count": len(projects.get(name, set())),
            }
        )
    return {"items": rows, "total": len(rows)}


#: Reads pf9 serves from its database that daytwo's inventory does not hold.
NOT_INVENTORIED = {
    "/subnets": "subnets",
    "/ports": "ports",
    "/floatingips": "floating IPs",
    "/security-groups": "security groups",
    "/security-groups/{sg_id}": "security groups",
    "/security-group-rules": "security group rules",
    "/images": "images",
    "/users": "Keystone users",
    "/users/{user_id}": "Keystone users",
    "/roles": "Keystone roles",
    "/roles/{role_id}": "Keystone roles",
    "/role-assignments": "Keystone role assignments",
    "/user-activity-summary": "Keystone user activity",
}

#: pf9 admin writes to OpenStack that daytwo does not do.
UNSUPPORTED_WRITES = {
    ("POST", "/admin/networks"): "Creating networks",
    ("DELETE", "/admin/networks/{network_id}"): "Deleting networks",
    ("POST", "/admin/flavors"): "Creating flavors",
    ("DELETE", "/admin/flavors/{flavor_id}"): "Deleting flavors",
    ("POST", "/admin/security-groups"): "Creating security groups",
    ("DELETE", "/admin/security-groups/{sg_id}"): "Deleting security groups",
    ("POST", "/admin/security-group-rules"): "Creating security group rules",
    ("DELETE", "/admin/security-group-rules/{rule_id}"): "Deleting security group rules",
    ("POST", "/admin/user-access-log"): "Logging user access to pf9's database",
}


def _with_path_params(endpoint: Callable[..., None], path: str) -> Callable[..., None]:
    """Declare ``path``'s parameters (strings) on ``endpoint`` so the OpenAPI document lists them."""
    signature = inspect.signature(endpoint)
    params = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=PathId)
        for name in re.findall(r"{(\w+)}", path)
    ]
    kept = [p for p in signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    endpoint.__signature__ = signature.replace(parameters=[*params, *kept])  # type: ignore[attr-defined]
    return endpoint


def _add_not_inventoried(path: str, what: str) -> None:
    def endpoint(user: Principal = require("inventory:read"), **_: str) -> None:
        raise not_implemented(
            f"Listing {what}",
            f"the CloudCredential inventory holds servers, volumes, networks (and compute: "
            f"hypervisors, flavors, aggregates), not {what}",
        )

    endpoint.__doc__ = f"Not supported: daytwo does not inventory {what}."
    router.add_api_route(
        path,
        _with_path_params(endpoint, path),
        methods=["GET"],
        summary=f"{what} (not inventoried)",
        responses={501: {"description": "Not supported by daytwo"}},
    )


def _add_unsupported(method: str, path: str, what: str) -> None:
    def endpoint(user: Principal = require("settings:admin"), **_: str) -> None:
        raise not_implemented(
            what, "daytwo manages day-2 operations, not OpenStack configuration; use OpenStack directly"
        )

    endpoint.__doc__ = f"Not supported: {what.lower()} is not something daytwo does."
    router.add_api_route(
        path,
        _with_path_params(endpoint, path),
        methods=[method],
        summary=f"{what} (not supported)",
        responses={501: {"description": "Not supported by daytwo"}},
    )


for _path, _what in NOT_INVENTORIED.items():
    _add_not_inventoried(_path, _what)
for (_method, _path), _what in UNSUPPORTED_WRITES.items():
    _add_unsupported(_method, _path, _what)
