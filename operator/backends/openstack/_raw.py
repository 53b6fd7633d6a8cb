"""Raw inventory: every object of one resource type as the API returned it (all projects).

Drift detection watches any field a user names (``flavor_id`` or a JSON path such as
``$.metadata.owner``), so it needs the API's own JSON rather than our records. One listing per
resource type serves every rule on that type.
"""

from __future__ import annotations

from typing import Any, Unpack

from ._base import ServiceCalls, fetch_all, microversion
from ._clients import Connection
from ._options import RawListOptions

__all__ = ["RAW_RESOURCE_TYPES", "RawInventoryCalls"]

#: resource type -> (proxy attribute, list path, response key, all-projects query)
RAW_RESOURCE_TYPES: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "server": ("compute", "/servers/detail", "servers", {"all_tenants": "True"}),
    "volume": ("block_storage", "/volumes/detail", "volumes", {"all_tenants": "1"}),
    "snapshot": ("block_storage", "/snapshots/detail", "snapshots", {"all_tenants": "1"}),
    "network": ("network", "/networks", "networks", {}),
    "subnet": ("network", "/subnets", "subnets", {}),
    "port": ("network", "/ports", "ports", {}),
    "floating_ip": ("network", "/floatingips", "floatingips", {}),
    "security_group": ("network", "/security-groups", "security_groups", {}),
}
_SERVER_MICROVERSION = "2.47"


class RawInventoryCalls(ServiceCalls):
    """Listing of raw API objects by resource type."""

    def list_raw(self, resource_type: str, **options: Unpack[RawListOptions]) -> list[Any]:
        """Every ``resource_type`` object (all projects, or one) as the API's JSON, pages followed; with
        ``each_page``, what it makes of each page (the page's JSON is dropped before the next is read)."""
        if resource_type not in RAW_RESOURCE_TYPES:
            raise ValueError(f"unknown resource type {resource_type!r}; one of {sorted(RAW_RESOURCE_TYPES)}")
        proxy_name, path, key, scope = RAW_RESOURCE_TYPES[resource_type]
        project_id, each_page = options.get("project_id"), options.get("each_page")
        query: dict[str, str] = {"project_id": project_id} if project_id else dict(scope)

        def run(conn: Connection) -> list[dict[str, Any]]:
            proxy = getattr(conn, proxy_name)
            version = microversion(proxy, _SERVER_MICROVERSION) if resource_type == "server" else None
            return fetch_all(proxy, path, key, params=query, version=version, each_page=each_page)

        return self._call(f"list {resource_type} (raw)", run)
