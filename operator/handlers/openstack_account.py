"""The OpenStack backend seen as a cloud account: validate() and inventory() like the aws/azure/gcp backends.

The CloudCredential handler treats all four providers alike: ``validate()`` returns a CloudIdentity,
``inventory(kinds)`` an Inventory of normalised records (Nova servers as vms, Cinder volumes as storage,
Neutron networks as networks). OpenStack's token expiry is renewed by keystoneauth, so it is not
reported as the credential's expiry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ..backends.inventory import CloudIdentity, Inventory, InventoryKind, InventoryRecord, parse_kinds
from ..backends.openstack import Network, OpenStackBackend, Server, Volume

__all__ = ["OpenStackAccount"]

PROVIDER = "openstack"


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _meta(**fields: object) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value not in (None, "", (), [])}


class OpenStackAccount:
    """One Keystone scope (project) of a CloudCredential, through the shared OpenStack backend."""

    def __init__(self, backend: OpenStackBackend, region: str | None, username: str | None) -> None:
        self.backend, self.region, self.username = backend, region or "", username

    def validate(self) -> CloudIdentity:
        """Keystone token issue (whoami): user, project and domain of the token."""
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
        """Servers, volumes and networks visible to the credential (all projects when it is admin)."""
        wanted = parse_kinds(kinds)
        synced = datetime.now(UTC)
        records: list[InventoryRecord] = []
        if InventoryKind.VMS in wanted:
            records.extend(self._server(server, synced) for server in self.backend.list_servers())
        if InventoryKind.STORAGE in wanted:
            records.extend(self._volume(volume, synced) for volume in self.backend.list_volumes())
        if InventoryKind.NETWORKS in wanted:
            records.extend(self._network(network, synced) for network in self.backend.list_networks())
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
            _when(server.created_at),
        )

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
            _when(volume.created_at),
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
