"""Neutron calls: networks, subnets, ports, floating IPs, security groups and free addresses."""

from __future__ import annotations

from typing import Any, Unpack

from . import _convert
from ._base import ServiceCalls, fetch_all
from ._clients import Connection
from ._freeips import free_addresses
from ._options import PortFilters, PortOptions
from ._records import FloatingIP, Network, Port, SecurityGroup, Subnet, SubnetFreeIPs

__all__ = ["NetworkCalls"]


def _only(**filters: Any) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


def port_body(network_id: str, name: str, options: PortOptions) -> dict[str, Any]:
    """Neutron's ``port`` body; ``fixed_ips`` are (subnet_id, ip_address) pairs, either may be None."""
    body: dict[str, Any] = {"network_id": network_id, "name": name}
    if fixed_ips := options.get("fixed_ips", ()):
        body["fixed_ips"] = [_only(subnet_id=s, ip_address=ip) for s, ip in fixed_ips]
    if (security_group_ids := options.get("security_group_ids")) is not None:
        body["security_groups"] = list(security_group_ids)
    if project_id := options.get("project_id"):
        body["project_id"] = project_id
    return body


class NetworkCalls(ServiceCalls):
    """Neutron v2.0 part of the backend."""

    def list_networks(self, *, project_id: str | None = None) -> list[Network]:
        """Networks."""
        query = _only(project_id=project_id)
        return self._list("list networks", "network", "/networks", "networks", _convert.network, query)

    def list_subnets(self, *, network_id: str | None = None) -> list[Subnet]:
        """Subnets, optionally of one network."""
        query = _only(network_id=network_id)
        return self._list("list subnets", "network", "/subnets", "subnets", _convert.subnet, query)

    def list_ports(self, **filters: Unpack[PortFilters]) -> list[Port]:
        """Ports, optionally filtered."""
        query = _only(
            network_id=filters.get("network_id"),
            device_id=filters.get("device_id"),
            project_id=filters.get("project_id"),
        )
        return self._list("list ports", "network", "/ports", "ports", _convert.port, query)

    def get_port(self, port_id: str) -> Port:
        """One port."""
        return self._get("get port", "network", f"/ports/{port_id}", "port", _convert.port)

    def create_port(self, network_id: str, *, name: str, **options: Unpack[PortOptions]) -> Port:
        """Create a port; ``fixed_ips`` are (subnet_id, ip_address) pairs, either may be None."""
        body = port_body(network_id, name, options)
        return self._create("create port", "network", "/ports", "port", body, _convert.port)

    def delete_port(self, port_id: str) -> bool:
        """Delete a port; False when it was already gone."""
        return self._delete("delete port", "network", f"/ports/{port_id}")

    def list_floating_ips(self, *, project_id: str | None = None) -> list[FloatingIP]:
        """Floating IPs."""
        query = _only(project_id=project_id)
        return self._list("list floating ips", "network", "/floatingips", "floatingips", _convert.floating_ip, query)

    def list_security_groups(self, *, project_id: str | None = None) -> list[SecurityGroup]:
        """Security groups with their rules."""
        query = _only(project_id=project_id)
        return self._list(
            "list security groups", "network", "/security-groups", "security_groups", _convert.security_group, query
        )

    def free_ips(self, network_id: str, *, limit_per_subnet: int = 200) -> list[SubnetFreeIPs]:
        """Unused addresses per subnet of a network (allocation pools minus used)."""

        def run(conn: Connection) -> list[SubnetFreeIPs]:
            query = {"network_id": network_id}
            subnets = [_convert.subnet(s) for s in fetch_all(conn.network, "/subnets", "subnets", params=query)]
            used: dict[str, list[str]] = {s.id: [] for s in subnets}
            for p in fetch_all(conn.network, "/ports", "ports", params=query):
                for fixed in p.get("fixed_ips") or ():
                    if fixed.get("subnet_id") in used and fixed.get("ip_address"):
                        used[fixed["subnet_id"]].append(fixed["ip_address"])
            out = []
            for s in subnets:
                listed, total = free_addresses(
                    s.cidr, s.allocation_pools, used[s.id], gateway_ip=s.gateway_ip, limit=limit_per_subnet
                )
                out.append(
                    SubnetFreeIPs(
                        subnet_id=s.id,
                        subnet_name=s.name,
                        network_id=network_id,
                        cidr=s.cidr,
                        gateway_ip=s.gateway_ip,
                        available_ips=listed,
                        available_count=total,
                    )
                )
            return out

        return self._call("free ips", run)
