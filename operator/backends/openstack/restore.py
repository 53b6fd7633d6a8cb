"""What a VM restore needs beyond :class:`OpenStackBackend`: finding what a job created, by name and owner.

A restore gives every object it creates a deterministic name and an owner mark (Cinder/Nova metadata,
Neutron tags), so an operator restarted between a create call and recording its result finds the
object instead of creating a second one. :class:`AddressInUse` is Neutron's 409
``IpAddressAlreadyAllocated``, the one conflict an IP strategy reacts to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ...errors import Conflict
from .protocol import OpenStackBackend
from .records import Port, Server, Volume

__all__ = ["AddressInUse", "RestoreBackend"]


class AddressInUse(Conflict):
    """Neutron refused a fixed IP because another port holds it (409 IpAddressAlreadyAllocated)."""

    reason = "IpAddressAlreadyAllocated"


@runtime_checkable
class RestoreBackend(OpenStackBackend, Protocol):
    """The OpenStack backend plus the lookups and creates a resumable restore uses."""

    def find_volumes(self, name: str, *, project_id: str | None = None) -> list[Volume]:
        """Volumes with exactly this name (all projects, or one)."""
        ...

    def find_servers(self, name: str, *, project_id: str | None = None) -> list[Server]:
        """Servers with exactly this name (all projects, or one), with their metadata."""
        ...

    def list_tagged_ports(self, tags: Sequence[str], *, project_id: str | None = None) -> list[Port]:
        """Ports carrying every one of ``tags`` (Neutron's ``tags`` filter)."""
        ...

    def ports_with_ip(self, network_id: str, ip_address: str) -> list[Port]:
        """Ports of a network holding this fixed IP (Neutron's ``fixed_ips=ip_address=`` filter)."""
        ...

    def create_tagged_port(
        self,
        network_id: str,
        *,
        name: str,
        fixed_ips: Sequence[tuple[str | None, str | None]] = (),
        security_group_ids: Sequence[str] | None = None,
        project_id: str | None = None,
        tags: Sequence[str] = (),
        description: str = "",
    ) -> Port:
        """Create a port carrying ``tags``; AddressInUse when a requested fixed IP is taken."""
        ...
