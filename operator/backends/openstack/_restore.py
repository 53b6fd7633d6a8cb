"""The calls :class:`RestoreBackend` adds: exact-name lookups, tag filters and tagged port creation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

from openstack import exceptions as sdk_exc

from . import _convert
from ._base import ServiceCalls, fetch_all, microversion
from ._clients import Connection
from ._errors import AddressInUse
from ._network import port_body
from ._options import TaggedPortOptions
from ._records import Port, Server, Volume

__all__ = ["RestoreCalls"]

# 2.47 embeds the flavor in each server, as every other server read does.
_SERVER_MV = "2.47"
# Nova's name filter is a regular expression; escape what is special in both Python and SQL dialects.
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def _neutron_type(response: Any) -> str:
    try:
        return str((response.json().get("NeutronError") or {}).get("type") or "")
    except ValueError:
        return ""


class RestoreCalls(ServiceCalls):
    """Lookups by exact name and owner tag, and port creation that tells a taken address apart."""

    def find_volumes(self, name: str, *, project_id: str | None = None) -> list[Volume]:
        """Volumes with exactly this name (all projects, or one)."""
        query: dict[str, Any] = {"all_tenants": "1", "name": name}
        if project_id:
            query["project_id"] = project_id
        found = self._list("find volumes", "block_storage", "/volumes/detail", "volumes", _convert.volume, query)
        return [v for v in found if v.name == name]

    def find_servers(self, name: str, *, project_id: str | None = None) -> list[Server]:
        """Servers with exactly this name (all projects, or one), with their metadata."""
        escaped = "".join(f"\\{ch}" if ch in _REGEX_SPECIAL else ch for ch in name)
        query: dict[str, Any] = {"name": f"^{escaped}$", "all_tenants": "True"}
        if project_id:
            query["project_id"] = project_id

        def run(conn: Connection) -> list[Server]:
            version = microversion(conn.compute, _SERVER_MV)
            raw = fetch_all(conn.compute, "/servers/detail", "servers", params=query, version=version)
            return [_convert.server(s) for s in raw]

        return [s for s in self._call("find servers", run) if s.name == name]

    def list_tagged_ports(self, tags: Sequence[str], *, project_id: str | None = None) -> list[Port]:
        """Ports carrying every one of ``tags`` (Neutron's ``tags`` filter)."""
        query: dict[str, Any] = {"tags": ",".join(tags)}
        if project_id:
            query["project_id"] = project_id
        return self._list("list tagged ports", "network", "/ports", "ports", _convert.port, query)

    def ports_with_ip(self, network_id: str, ip_address: str) -> list[Port]:
        """Ports of a network holding this fixed IP (Neutron's ``fixed_ips=ip_address=`` filter)."""
        query = {"network_id": network_id, "fixed_ips": f"ip_address={ip_address}"}
        found = self._list("ports with ip", "network", "/ports", "ports", _convert.port, query)
        return [p for p in found if any(f.ip_address == ip_address for f in p.fixed_ips)]

    def create_tagged_port(self, network_id: str, *, name: str, **options: Unpack[TaggedPortOptions]) -> Port:
        """Create a port carrying ``tags`` (Neutron's tags-on-create); AddressInUse when a fixed IP is taken."""
        body = port_body(network_id, name, options)
        if tags := options.get("tags", ()):
            body["tags"] = list(tags)
        if description := options.get("description", ""):
            body["description"] = description

        def run(conn: Connection) -> Port:
            response = conn.network.request(
                "/ports", "POST", json={"port": body}, headers={"Accept": "application/json"}
            )
            if response.status_code == 409 and _neutron_type(response) == "IpAddressAlreadyAllocated":
                raise AddressInUse(f"create port: {response.json()['NeutronError']['message']}", status_code=409)
            sdk_exc.raise_from_response(response)
            return _convert.port(response.json()["port"])

        return self._call("create port", run, idempotent=False)
