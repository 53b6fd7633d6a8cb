"""Compute Engine instances, disks and networks as normalised InventoryRecords."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..records import InventoryRecord, inventory_record, record_time

__all__ = ["disk_record", "instance_record", "network_record", "region_of_zone"]

PROVIDER = "gcp"


def _last(url: Any) -> str:
    """The last path segment of a selfLink-style URL ('.../zones/us-central1-a' -> 'us-central1-a')."""
    return str(url or "").rstrip("/").rsplit("/", 1)[-1]


def region_of_zone(zone: str) -> str:
    """us-central1-a -> us-central1."""
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


def _meta(item: Mapping[str, Any], **fields: Any) -> dict[str, str]:
    meta = {k: str(v) for k, v in fields.items() if v not in (None, "", [], ())}
    meta.update({f"label:{k}": str(v) for k, v in (item.get("labels") or {}).items()})
    return meta


def _record(
    item: Mapping[str, Any], kind: str, region: str, status: str, meta: dict[str, str], synced: datetime
) -> InventoryRecord:
    """The InventoryRecord of one Compute resource: id (its selfLink), name and creation time read alike for all."""
    created = record_time(item.get("creationTimestamp"), "gcp")
    resource_id = str(item.get("selfLink") or item["id"])
    return inventory_record(
        PROVIDER, kind, resource_id, str(item.get("name", "")), region, status, meta, synced, created
    )


def instance_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One instance; status is Compute's lower-cased (running, terminated, stopping, ...)."""
    zone = _last(item.get("zone"))
    nics = item.get("networkInterfaces") or ()
    meta = _meta(
        item,
        machine_type=_last(item.get("machineType")),
        zone=zone,
        private_ip=",".join(str(n.get("networkIP")) for n in nics if n.get("networkIP")),
        networks=",".join(_last(n.get("network")) for n in nics if n.get("network")),
        boot_disk=next((_last(d.get("source")) for d in item.get("disks") or () if d.get("boot")), None),
        instance_id=item.get("id"),
        creation_timestamp=item.get("creationTimestamp"),
    )
    return _record(item, "vm", region_of_zone(zone), str(item.get("status", "unknown")).lower(), meta, synced)


def disk_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One zonal (or regional) persistent disk; status is lower-cased (ready, creating, ...)."""
    zone = _last(item.get("zone")) if item.get("zone") else ""
    region = region_of_zone(zone) if zone else _last(item.get("region"))
    meta = _meta(
        item,
        disk_type=_last(item.get("type")),
        size_gb=item.get("sizeGb"),
        zone=zone,
        attached_to=",".join(_last(u) for u in item.get("users") or ()),
        disk_id=item.get("id"),
        creation_timestamp=item.get("creationTimestamp"),
    )
    return _record(item, "storage", region, str(item.get("status", "unknown")).lower(), meta, synced)


def network_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One VPC network (global); status is 'active' (networks have no state in the API)."""
    meta = _meta(
        item,
        auto_create_subnetworks=str(bool(item.get("autoCreateSubnetworks"))).lower(),
        subnetworks=",".join(_last(s) for s in item.get("subnetworks") or ()),
        routing_mode=(item.get("routingConfig") or {}).get("routingMode"),
        mtu=item.get("mtu"),
        network_id=item.get("id"),
        creation_timestamp=item.get("creationTimestamp"),
    )
    return _record(item, "network", "global", "active", meta, synced)
