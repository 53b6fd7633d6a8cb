"""The OpenStack backend seen as a cloud account: validate() and inventory() like the aws/azure/gcp backends.

The CloudCredential handler treats all four providers alike: ``validate()`` returns a CloudIdentity,
``inventory(kinds)`` an Inventory of normalised records (Nova servers as vms, Cinder volumes as storage,
Neutron networks as networks). OpenStack's token expiry is renewed by keystoneauth, so it is not
reported as the credential's expiry.

The OpenStack-only kind ``compute`` adds the records the spot manager's GPU views need (types
``aggregate``, ``hypervisor`` and ``flavor``): aggregates with their member hosts and metadata,
hypervisors with their compute service host, flavors with their extra specs. Metadata values are
strings (the multicloud record shape): host lists are comma-joined (host names hold no commas) and
key/value maps are compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from ..backends.openstack import Aggregate, Flavor, Hypervisor, Network, OpenStackBackend, Server, Volume
from ..backends.records import CloudIdentity, Inventory, InventoryKind, InventoryRecord, parse_kinds, record_time
from ..shared.gpuviews import flavor_gpus

__all__ = ["COMPUTE", "COMPUTE_TYPES", "OpenStackAccount"]

PROVIDER = "openstack"
#: The OpenStack-only inventory kind (CRD spec.inventory.kinds) and the record types it yields.
COMPUTE = "compute"
COMPUTE_TYPES = ("aggregate", "hypervisor", "flavor")


def _meta(**fields: object) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value not in (None, "", (), [])}


def _json(mapping: Mapping[str, str]) -> str | None:
    """A string map as compact, key-sorted JSON (None when empty, so the key is left out)."""
    return json.dumps(dict(mapping), sort_keys=True, separators=(",", ":")) if mapping else None


class OpenStackAccount:
    """One Keystone scope (project) of a CloudCredential, through the shared OpenStack backend."""

    def __init__(
        self,
        backend: OpenStackBackend,
        region: str | None,
        username: str | None,
        fresh_token: Callable[[], None] | None = None,
    ) -> None:
        self.backend, self.region, self.username = backend, region or "", username
        self.fresh_token = fresh_token

    def validate(self) -> CloudIdentity:
        """Keystone token issue (whoami) with a token issued now, not a cached one (``fresh_token`` drops
        the cached token first), so a revoked password fails this validation: user, project and domain."""
        if self.fresh_token is not None:
            self.fresh_token()
        who = self.backend.whoami()
        return CloudIdentity(
            PROVIDER,
            principal=self.username or who.user_id,
            account=who.domain_id,
            tenant=who.project_id,
            project=who.project_id,
            details={"user_id": who.user_id, "roles": ",".join(who.roles)},
        )

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Servers, volumes and networks visible to the credential (all projects when it is admin), plus
        aggregates, hypervisors and flavors when ``compute`` is asked for (needs admin).

        ``Inventory.counts()`` covers the shared kinds only; the compute records ride along in the same
        ConfigMaps, told apart by their type.
        """
        asked = None if kinds is None else [str(kind) for kind in kinds]
        compute = asked is not None and COMPUTE in asked
        wanted = parse_kinds(None if asked is None else [kind for kind in asked if kind != COMPUTE])
        synced = datetime.now(UTC)
        records: list[InventoryRecord] = []
        if InventoryKind.VMS in wanted:
            records.extend(self._server(server, synced) for server in self.backend.list_servers())
        if InventoryKind.STORAGE in wanted:
            records.extend(self._volume(volume, synced) for volume in self.backend.list_volumes())
        if InventoryKind.NETWORKS in wanted:
            records.extend(self._network(network, synced) for network in self.backend.list_networks())
        if compute:
            records.extend(self._aggregate(aggregate, synced) for aggregate in self.backend.list_aggregates())
            records.extend(self._hypervisor(hypervisor, synced) for hypervisor in self.backend.list_hypervisors())
            records.extend(self._flavor(flavor, synced) for flavor in self.backend.list_flavors())
        return Inventory(PROVIDER, wanted, tuple(records), synced)

    def _server(self, server: Server, synced: datetime) -> InventoryRecord:
        fixed = [a.address for a in server.addresses if a.kind == "fixed"]
        floating = [a.address for a in server.addresses if a.kind == "floating"]
        meta = _meta(
            flavor=server.flavor.name,
            vcpus=server.flavor.vcpus,
            ram_mb=server.flavor.ram_mb,
            image_id=server.image_id,
            project_id=server.project_id,
            host=server.host,
            hypervisor_hostname=server.hypervisor_hostname,
            gpus=flavor_gpus(server.flavor.extra_specs) or None,
            availability_zone=server.availability_zone,
            private_ip=",".join(fixed),
            public_ip=",".join(floating),
        )
        return InventoryRecord(
            server.id,
            server.name,
            "vm",
            PROVIDER,
            self.region,
            server.status.lower(),
            meta,
            synced,
            record_time(server.created_at, f"openstack server {server.id}"),
        )

    # Duplicate scan: _server/_volume/_network share a form (meta, then an InventoryRecord); deliberate because
    # each maps its own OpenStack record's fields.
    def _volume(self, volume: Volume, synced: datetime) -> InventoryRecord:
        meta = _meta(
            size_gb=volume.size_gb,
            volume_type=volume.volume_type,
            bootable=volume.bootable,
            project_id=volume.project_id,
            availability_zone=volume.availability_zone,
            attached_to=",".join(a.server_id for a in volume.attachments),
        )
        return InventoryRecord(
            volume.id,
            volume.name or volume.id,
            "storage",
            PROVIDER,
            self.region,
            volume.status,
            meta,
            synced,
            record_time(volume.created_at, f"openstack volume {volume.id}"),
        )

    def _network(self, network: Network, synced: datetime) -> InventoryRecord:
        meta = _meta(
            project_id=network.project_id,
            shared=network.shared,
            external=network.external,
            subnets=len(network.subnet_ids),
            mtu=network.mtu,
        )
        status = (network.status or "unknown").lower()
        return InventoryRecord(
            network.id, network.name or network.id, "network", PROVIDER, self.region, status, meta, synced
        )

    def _aggregate(self, aggregate: Aggregate, synced: datetime) -> InventoryRecord:
        meta = _meta(
            hosts=",".join(aggregate.hosts),
            availability_zone=aggregate.availability_zone,
            uuid=aggregate.uuid,
            properties=_json(aggregate.metadata),
        )
        return InventoryRecord(aggregate.id, aggregate.name, "aggregate", PROVIDER, self.region, "active", meta, synced)

    def _hypervisor(self, hypervisor: Hypervisor, synced: datetime) -> InventoryRecord:
        meta = _meta(
            host=hypervisor.host,
            state=hypervisor.state,
            hypervisor_type=hypervisor.hypervisor_type,
            vcpus=hypervisor.vcpus,
            vcpus_used=hypervisor.vcpus_used,
            memory_mb=hypervisor.memory_mb,
            memory_mb_used=hypervisor.memory_mb_used,
            running_vms=hypervisor.running_vms,
        )
        status = (hypervisor.status or "unknown").lower()
        return InventoryRecord(
            hypervisor.id, hypervisor.hostname, "hypervisor", PROVIDER, self.region, status, meta, synced
        )

    def _flavor(self, flavor: Flavor, synced: datetime) -> InventoryRecord:
        meta = _meta(
            vcpus=flavor.vcpus,
            ram_mb=flavor.ram_mb,
            disk_gb=flavor.disk_gb,
            is_public=flavor.is_public,
            gpus=flavor_gpus(flavor.extra_specs) or None,
            extra_specs=_json(flavor.extra_specs),
        )
        return InventoryRecord(
            flavor.id or flavor.name, flavor.name, "flavor", PROVIDER, self.region, "active", meta, synced
        )
