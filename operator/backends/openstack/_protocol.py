"""The typed interface every OpenStack backend offers; handlers and reconcilers depend on this only.

All methods are synchronous (call them from worker threads), follow pagination to the end,
and raise only :mod:`daytwo.operator.errors` types. Mutations return immediately; poll with
the ``get_*`` calls until the returned status is final (no blocking waits in handlers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Unpack, runtime_checkable

from ._options import (
    PortFilters,
    PortOptions,
    RawListOptions,
    ServerFilters,
    SnapshotFilters,
    SnapshotOptions,
    TaggedPortOptions,
    VolumeFilters,
    VolumeOptions,
)
from ._params import OpenStackConnectionParams
from ._records import (
    Aggregate,
    Domain,
    Flavor,
    FloatingIP,
    Hypervisor,
    Identity,
    Image,
    Network,
    Port,
    Project,
    QuotaUsage,
    Role,
    RoleAssignment,
    SecurityGroup,
    Server,
    ServerSpec,
    Snapshot,
    Subnet,
    SubnetFreeIPs,
    User,
    Volume,
)

# The longer calls take their keyword options as one TypedDict from _options, shared with the implementation,
# so the Protocol does not restate those parameter lists.
__all__ = ["OpenStackBackend", "RestoreBackend"]


@runtime_checkable
class OpenStackBackend(Protocol):
    """Day-2 operations on one OpenStack cloud (Keystone, Nova, Cinder, Neutron, Glance)."""

    @property
    def params(self) -> OpenStackConnectionParams:
        """The connection params (endpoint, timeout) this backend was built from."""
        ...

    # Keystone
    def whoami(self) -> Identity:
        """Authenticate (if needed) and describe the identity and its catalog."""
        ...

    def list_domains(self) -> list[Domain]:
        """All domains."""
        ...

    def list_projects(self, *, domain_id: str | None = None) -> list[Project]:
        """All projects, optionally of one domain."""
        ...

    def list_users(self, *, domain_id: str | None = None) -> list[User]:
        """All users, optionally of one domain."""
        ...

    def list_roles(self) -> list[Role]:
        """All roles."""
        ...

    def list_role_assignments(
        self, *, project_id: str | None = None, user_id: str | None = None
    ) -> list[RoleAssignment]:
        """Role assignments, optionally filtered by project scope and/or user."""
        ...

    # Nova
    def list_servers(self, **filters: Unpack[ServerFilters]) -> list[Server]:
        """Servers with flavor and host details (all projects by default; needs admin)."""
        ...

    def get_server(self, server_id: str) -> Server:
        """One server; the non-blocking way to poll a build or delete (raises NotFound when gone)."""
        ...

    def find_server(self, name: str, *, project_id: str | None = None) -> Server | None:
        """The server with exactly this name (deterministic names make retries idempotent)."""
        ...

    def create_server(self, spec: ServerSpec) -> Server:
        """Submit a boot (from a volume, with ports); returns at once with status BUILD."""
        ...

    def delete_server(self, server_id: str) -> bool:
        """Submit a delete; False when the server was already gone."""
        ...

    def list_flavors(self) -> list[Flavor]:
        """All flavors with extra specs (GPU properties)."""
        ...

    def list_hypervisors(self) -> list[Hypervisor]:
        """Compute nodes with capacity and usage."""
        ...

    def list_aggregates(self) -> list[Aggregate]:
        """Host aggregates with hosts, metadata and availability zone."""
        ...

    def get_aggregate(self, name_or_id: str) -> Aggregate:
        """One aggregate by name or id (raises NotFound)."""
        ...

    def add_host_to_aggregate(self, aggregate_id: str, host: str) -> Aggregate:
        """Add a compute host (Conflict if already a member, NotFound for an unknown host)."""
        ...

    def remove_host_from_aggregate(self, aggregate_id: str, host: str) -> Aggregate:
        """Remove a compute host (NotFound if it is not a member)."""
        ...

    def set_aggregate_metadata(self, aggregate_id: str, metadata: Mapping[str, str | None]) -> Aggregate:
        """Set (or, with None values, unset) aggregate metadata keys."""
        ...

    def set_aggregate_availability_zone(self, aggregate_id: str, zone: str | None) -> Aggregate:
        """Change the aggregate's availability zone."""
        ...

    def get_compute_quota_usage(self, project_id: str) -> list[QuotaUsage]:
        """Nova quota limits and usage of a project."""
        ...

    # Cinder
    def list_volumes(self, **filters: Unpack[VolumeFilters]) -> list[Volume]:
        """Volumes with metadata and attachments."""
        ...

    def get_volume(self, volume_id: str) -> Volume:
        """One volume; poll it for creating -> available."""
        ...

    def set_volume_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> Volume:
        """Merge metadata keys into a volume."""
        ...

    def create_volume(self, *, name: str, **options: Unpack[VolumeOptions]) -> Volume:
        """Submit a volume create (blank, from a snapshot or from an image); status creating."""
        ...

    def delete_volume(self, volume_id: str) -> bool:
        """Submit a delete; False when the volume was already gone."""
        ...

    def list_snapshots(self, **filters: Unpack[SnapshotFilters]) -> list[Snapshot]:
        """Volume snapshots (``status`` filters server-side, e.g. the ones still ``creating``)."""
        ...

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        """One snapshot; poll it for creating -> available."""
        ...

    def create_snapshot(self, volume_id: str, *, name: str, **options: Unpack[SnapshotOptions]) -> Snapshot:
        """Submit a snapshot (``force`` allows an in-use volume)."""
        ...

    def delete_snapshot(self, snapshot_id: str) -> bool:
        """Submit a delete; False when the snapshot was already gone."""
        ...

    def get_volume_quota_usage(self, project_id: str) -> list[QuotaUsage]:
        """Cinder quota limits and usage of a project."""
        ...

    # Neutron
    def list_networks(self, *, project_id: str | None = None) -> list[Network]:
        """Networks."""
        ...

    def list_subnets(self, *, network_id: str | None = None) -> list[Subnet]:
        """Subnets, optionally of one network."""
        ...

    def list_ports(self, **filters: Unpack[PortFilters]) -> list[Port]:
        """Ports, optionally filtered."""
        ...

    def get_port(self, port_id: str) -> Port:
        """One port."""
        ...

    def create_port(self, network_id: str, *, name: str, **options: Unpack[PortOptions]) -> Port:
        """Create a port; ``fixed_ips`` are (subnet_id, ip_address) pairs, either may be None."""
        ...

    def delete_port(self, port_id: str) -> bool:
        """Delete a port; False when it was already gone."""
        ...

    def list_floating_ips(self, *, project_id: str | None = None) -> list[FloatingIP]:
        """Floating IPs."""
        ...

    def list_security_groups(self, *, project_id: str | None = None) -> list[SecurityGroup]:
        """Security groups with their rules."""
        ...

    def free_ips(self, network_id: str, *, limit_per_subnet: int = 200) -> list[SubnetFreeIPs]:
        """Unused addresses per subnet of a network (allocation pools minus used)."""
        ...

    # Glance
    def list_images(self) -> list[Image]:
        """Images visible to the identity."""
        ...

    def get_image(self, image_id: str) -> Image:
        """One image."""
        ...

    # Raw inventory (drift detection)
    def list_raw(self, resource_type: str, **options: Unpack[RawListOptions]) -> list[Any]:
        """Every object of a resource type (server, volume, snapshot, network, subnet, port,
        floating_ip, security_group) as the API's JSON, all projects unless ``project_id``; with
        ``each_page``, what it makes of each page instead."""
        ...


# A restore gives every object it creates a deterministic name and an owner mark (Cinder/Nova metadata,
# Neutron tags), so an operator restarted between a create call and recording its result finds the
# object instead of creating a second one.
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

    def create_tagged_port(self, network_id: str, *, name: str, **options: Unpack[TaggedPortOptions]) -> Port:
        """Create a port carrying ``tags``; AddressInUse when a requested fixed IP is taken."""
        ...
