"""Nova calls: servers, flavors, hypervisors, host aggregates and quota usage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ...errors import NotFound
from . import _convert
from ._base import ServiceCalls, fetch_all, microversion, request_json
from ._clients import Connection
from ._options import ServerFilters
from ._quota import quota_usages
from ._records import Aggregate, Flavor, Hypervisor, QuotaUsage, Server, ServerSpec

__all__ = ["ComputeCalls"]

# 2.47 embeds the flavor (name, sizes, extra specs) in each server.
_SERVER_MV = "2.47"
# Capacity fields (vcpus, memory_mb, local_gb, *_used, running_vms) exist until 2.87; 2.53 also pages.
_HYPERVISOR_MV = "2.53"
# 2.61 lists flavors with their extra specs.
_FLAVOR_MV = "2.61"
# 2.41 adds the aggregate uuid.
_AGGREGATE_MV = "2.41"
# Nova's name filter is a regular expression; escape what is special in both Python and SQL dialects.
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def _flavors(conn: Connection) -> list[Flavor]:
    version = microversion(conn.compute, _FLAVOR_MV)
    raw = fetch_all(conn.compute, "/flavors/detail", "flavors", params={"is_public": "None"}, version=version)
    if version is None:
        for f in raw:
            f["extra_specs"] = request_json(conn.compute, "GET", f"/flavors/{f['id']}/os-extra_specs")["extra_specs"]
    return [_convert.flavor(f) for f in raw]


def _servers(conn: Connection, query: Mapping[str, Any]) -> list[Server]:
    version = microversion(conn.compute, _SERVER_MV)
    raw = fetch_all(conn.compute, "/servers/detail", "servers", params=query, version=version)
    by_id = {f.id: f for f in _flavors(conn) if f.id} if version is None and raw else None
    return [_convert.server(s, by_id) for s in raw]


class ComputeCalls(ServiceCalls):
    """Nova part of the backend."""

    def list_servers(self, **filters: Unpack[ServerFilters]) -> list[Server]:
        """Servers with flavor and host details (all projects by default; needs admin)."""
        query: dict[str, Any] = {}
        if filters.get("all_projects", True):
            query["all_tenants"] = "True"
        chosen = (filters.get("project_id"), filters.get("host"), filters.get("status"))
        for key, value in zip(("project_id", "host", "status"), chosen, strict=True):
            if value:
                query[key] = value
        return self._call("list servers", lambda c: _servers(c, query))

    def get_server(self, server_id: str) -> Server:
        """One server; the non-blocking way to poll a build or delete (raises NotFound when gone)."""

        def run(conn: Connection) -> Server:
            version = microversion(conn.compute, _SERVER_MV)
            return _convert.server(
                request_json(conn.compute, "GET", f"/servers/{server_id}", version=version)["server"]
            )

        return self._call("get server", run)

    def find_server(self, name: str, *, project_id: str | None = None) -> Server | None:
        """The server with exactly this name (deterministic names make retries idempotent)."""
        escaped = "".join(f"\\{ch}" if ch in _REGEX_SPECIAL else ch for ch in name)
        query: dict[str, Any] = {"name": f"^{escaped}$", "all_tenants": "True"}
        if project_id:
            query["project_id"] = project_id
        matches = [s for s in self._call("find server", lambda c: _servers(c, query)) if s.name == name]
        return matches[0] if matches else None

    def create_server(self, spec: ServerSpec) -> Server:
        """Submit a boot (from a volume, with ports); returns the new server, normally in BUILD."""
        body: dict[str, Any] = {"name": spec.name, "flavorRef": spec.flavor_id}
        networks: list[dict[str, str]] = [{"port": p} for p in spec.port_ids]
        networks += [{"uuid": n} for n in spec.network_ids]
        body["networks"] = networks or "none"
        if spec.boot_volume_id:
            body["block_device_mapping_v2"] = [{
                "boot_index": 0, "uuid": spec.boot_volume_id, "source_type": "volume",
                "destination_type": "volume", "delete_on_termination": spec.delete_volume_on_termination,
            }]  # fmt: skip
        elif spec.image_id:
            body["imageRef"] = spec.image_id
        for key, value in (("availability_zone", spec.availability_zone), ("key_name", spec.key_name)):
            if value:
                body[key] = value
        if spec.metadata:
            body["metadata"] = dict(spec.metadata)
        created = self._call(
            "create server",
            lambda c: request_json(c.compute, "POST", "/servers", body={"server": body}, version="2.37"),
            idempotent=False,
        )
        return self.get_server(str(created["server"]["id"]))

    def delete_server(self, server_id: str) -> bool:
        """Submit a delete; False when the server was already gone."""
        return self._delete("delete server", "compute", f"/servers/{server_id}")

    def list_flavors(self) -> list[Flavor]:
        """All flavors with extra specs (GPU properties)."""
        return self._call("list flavors", _flavors)

    def list_hypervisors(self) -> list[Hypervisor]:
        """Compute nodes with capacity and usage."""

        def run(conn: Connection) -> list[Hypervisor]:
            version = microversion(conn.compute, _HYPERVISOR_MV)
            raw = fetch_all(conn.compute, "/os-hypervisors/detail", "hypervisors", version=version)
            return [_convert.hypervisor(h) for h in raw]

        return self._call("list hypervisors", run)

    def list_aggregates(self) -> list[Aggregate]:
        """Host aggregates with hosts, metadata and availability zone."""

        def run(conn: Connection) -> list[Aggregate]:
            version = microversion(conn.compute, _AGGREGATE_MV)
            return [
                _convert.aggregate(a) for a in fetch_all(conn.compute, "/os-aggregates", "aggregates", version=version)
            ]

        return self._call("list aggregates", run)

    def get_aggregate(self, name_or_id: str) -> Aggregate:
        """One aggregate by name or id (raises NotFound)."""
        for agg in self.list_aggregates():
            if name_or_id in (agg.name, agg.id, agg.uuid):
                return agg
        raise NotFound(f"get aggregate: no host aggregate named or with id {name_or_id!r}", status_code=404)

    def _aggregate_request(self, operation: str, method: str, path: str, body: Mapping[str, Any]) -> Aggregate:
        def run(conn: Connection) -> Aggregate:
            version = microversion(conn.compute, _AGGREGATE_MV)
            return _convert.aggregate(request_json(conn.compute, method, path, body=body, version=version)["aggregate"])

        return self._call(operation, run, idempotent=False)

    def add_host_to_aggregate(self, aggregate_id: str, host: str) -> Aggregate:
        """Add a compute host (Conflict if already a member or in another AZ, NotFound for an unknown host)."""
        return self._aggregate_request(
            "add host to aggregate", "POST", f"/os-aggregates/{aggregate_id}/action", {"add_host": {"host": host}}
        )

    def remove_host_from_aggregate(self, aggregate_id: str, host: str) -> Aggregate:
        """Remove a compute host (NotFound if it is not a member)."""
        return self._aggregate_request(
            "remove host from aggregate", "POST", f"/os-aggregates/{aggregate_id}/action",
            {"remove_host": {"host": host}},
        )  # fmt: skip

    def set_aggregate_metadata(self, aggregate_id: str, metadata: Mapping[str, str | None]) -> Aggregate:
        """Set (or, with None values, unset) aggregate metadata keys."""
        return self._aggregate_request(
            "set aggregate metadata", "POST", f"/os-aggregates/{aggregate_id}/action",
            {"set_metadata": {"metadata": dict(metadata)}},
        )  # fmt: skip

    def set_aggregate_availability_zone(self, aggregate_id: str, zone: str | None) -> Aggregate:
        """Change the aggregate's availability zone (InvalidRequest if member hosts sit in another AZ)."""
        return self._aggregate_request(
            "set aggregate availability zone", "PUT", f"/os-aggregates/{aggregate_id}",
            {"aggregate": {"availability_zone": zone}},
        )  # fmt: skip

    def get_compute_quota_usage(self, project_id: str) -> list[QuotaUsage]:
        """Nova quota limits and usage of a project."""
        return self._call(
            "get compute quota usage",
            lambda c: quota_usages(
                "compute", project_id, request_json(c.compute, "GET", f"/os-quota-sets/{project_id}/detail")
            ),
        )
