"""EC2 instances, EBS volumes and VPCs as normalised InventoryRecords (plain dicts in, frozen values out)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..records import InventoryRecord, inventory_record

__all__ = ["instance_record", "volume_record", "vpc_record"]

PROVIDER = "aws"


def _tags(item: Mapping[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in item.get("Tags") or () if t.get("Key")}


def _meta(item: Mapping[str, Any], **fields: Any) -> dict[str, str]:
    """Non-empty fields as strings, then the item's tags as tag:<key>."""
    meta = {k: str(v) for k, v in fields.items() if v not in (None, "", [], ())}
    meta.update({f"tag:{k}": v for k, v in _tags(item).items()})
    return meta


def _when(value: Any) -> datetime | None:
    """botocore's timestamps (tz-aware, often tzlocal) in UTC."""
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def _iso(value: Any) -> str | None:
    when = _when(value)
    return when.isoformat() if when else None


def _record(
    resource_id: str, kind: str, region: str, status: str, meta: dict[str, str], synced: datetime, created: Any = None
) -> InventoryRecord:
    """The InventoryRecord of one EC2 resource, named by its Name tag (its id when untagged)."""
    name = meta.get("tag:Name") or resource_id
    return inventory_record(PROVIDER, kind, resource_id, name, region, status, meta, synced, _when(created))


def instance_record(item: Mapping[str, Any], region: str, synced: datetime) -> InventoryRecord:
    """One DescribeInstances instance: status is the instance state (running, stopped, terminated, ...)."""
    groups = ",".join(str(g.get("GroupId")) for g in item.get("SecurityGroups") or () if g.get("GroupId"))
    meta = _meta(
        item,
        instance_type=item.get("InstanceType"),
        image_id=item.get("ImageId"),
        availability_zone=(item.get("Placement") or {}).get("AvailabilityZone"),
        private_ip=item.get("PrivateIpAddress"),
        public_ip=item.get("PublicIpAddress"),
        vpc_id=item.get("VpcId"),
        subnet_id=item.get("SubnetId"),
        security_groups=groups,
        launch_time=_iso(item.get("LaunchTime")),
        architecture=item.get("Architecture"),
        platform=item.get("PlatformDetails") or item.get("Platform"),
    )
    state = str((item.get("State") or {}).get("Name", "unknown"))
    return _record(str(item["InstanceId"]), "vm", region, state, meta, synced, item.get("LaunchTime"))


# Duplicate scan: the three builders share a form (meta from the item's fields, then _record); deliberate, each
# reads its own EC2 object's keys.
def volume_record(item: Mapping[str, Any], region: str, synced: datetime) -> InventoryRecord:
    """One DescribeVolumes volume: status is the volume state (available, in-use, ...)."""
    attached = ",".join(str(a.get("InstanceId")) for a in item.get("Attachments") or () if a.get("InstanceId"))
    meta = _meta(
        item,
        volume_type=item.get("VolumeType"),
        size_gb=item.get("Size"),
        iops=item.get("Iops"),
        availability_zone=item.get("AvailabilityZone"),
        encrypted=str(bool(item.get("Encrypted"))).lower(),
        attached_to=attached,
        snapshot_id=item.get("SnapshotId"),
        create_time=_iso(item.get("CreateTime")),
    )
    state = str(item.get("State", "unknown"))
    return _record(str(item["VolumeId"]), "storage", region, state, meta, synced, item.get("CreateTime"))


def vpc_record(item: Mapping[str, Any], region: str, synced: datetime) -> InventoryRecord:
    """One DescribeVpcs VPC: status is the VPC state (pending, available)."""
    cidrs = ",".join(str(a.get("CidrBlock")) for a in item.get("CidrBlockAssociationSet") or () if a.get("CidrBlock"))
    meta = _meta(
        item,
        cidr_block=item.get("CidrBlock"),
        cidr_blocks=cidrs,
        is_default=str(bool(item.get("IsDefault"))).lower(),
        instance_tenancy=item.get("InstanceTenancy"),
        owner_id=item.get("OwnerId"),
        dhcp_options_id=item.get("DhcpOptionsId"),
    )
    return _record(str(item["VpcId"]), "network", region, str(item.get("State", "unknown")), meta, synced)
