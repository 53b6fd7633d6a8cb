"""ARM virtual machines, managed disks and virtual networks as normalised InventoryRecords."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..records import InventoryRecord, inventory_record, record_time

__all__ = ["disk_record", "resource_group", "vm_record", "vnet_record"]

PROVIDER = "azure"


def resource_group(resource_id: str) -> str:
    """The resource group named in an ARM id (/subscriptions/s/resourceGroups/<rg>/providers/...)."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return ""


def _meta(item: Mapping[str, Any], **fields: Any) -> dict[str, str]:
    meta = {k: str(v) for k, v in fields.items() if v not in (None, "", [], ())}
    meta["resource_group"] = resource_group(str(item.get("id", "")))
    meta.update({f"tag:{k}": str(v) for k, v in (item.get("tags") or {}).items()})
    return meta


def _power_state(props: Mapping[str, Any]) -> str:
    """running / deallocated / stopped / ... from instanceView (statusOnly=true), else the provisioning state."""
    for status in (props.get("instanceView") or {}).get("statuses") or ():
        code = str(status.get("code", ""))
        if code.startswith("PowerState/"):
            return code.partition("/")[2]
    return str(props.get("provisioningState", "unknown")).lower()


def _record(item: Mapping[str, Any], kind: str, status: str, meta: dict[str, str], synced: datetime) -> InventoryRecord:
    """The InventoryRecord of one ARM resource: id, name, location and timeCreated read alike for every type."""
    created = record_time((item.get("properties") or {}).get("timeCreated"), "azure")
    name, region = str(item.get("name", "")), str(item.get("location", ""))
    return inventory_record(PROVIDER, kind, str(item["id"]), name, region, status, meta, synced, created)


def vm_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One virtualMachines entry; status is the power state (running, deallocated, stopped, ...)."""
    props = item.get("properties") or {}
    storage = props.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    nics = [
        str(n.get("id", "")).rsplit("/", 1)[-1]
        for n in (props.get("networkProfile") or {}).get("networkInterfaces") or ()
    ]
    meta = _meta(
        item,
        vm_size=(props.get("hardwareProfile") or {}).get("vmSize"),
        os_type=os_disk.get("osType"),
        os_disk=os_disk.get("name"),
        network_interfaces=",".join(n for n in nics if n),
        zones=",".join(str(z) for z in item.get("zones") or ()),
        vm_id=props.get("vmId"),
        provisioning_state=props.get("provisioningState"),
        time_created=props.get("timeCreated"),
    )
    return _record(item, "vm", _power_state(props), meta, synced)


def disk_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One managed disk; status is diskState (Attached, Unattached, Reserved, ...) in lower case."""
    props = item.get("properties") or {}
    meta = _meta(
        item,
        sku=(item.get("sku") or {}).get("name"),
        size_gb=props.get("diskSizeGB"),
        managed_by=item.get("managedBy"),
        os_type=props.get("osType"),
        provisioning_state=props.get("provisioningState"),
        time_created=props.get("timeCreated"),
    )
    return _record(
        item, "storage", str(props.get("diskState", props.get("provisioningState", "unknown"))).lower(), meta, synced
    )


def vnet_record(item: Mapping[str, Any], synced: datetime) -> InventoryRecord:
    """One virtual network; status is its provisioning state (succeeded, updating, ...) in lower case."""
    props = item.get("properties") or {}
    prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or ()
    subnets = [str(s.get("name", "")) for s in props.get("subnets") or ()]
    meta = _meta(
        item,
        address_prefixes=",".join(str(p) for p in prefixes),
        subnets=",".join(s for s in subnets if s),
        resource_guid=props.get("resourceGuid"),
    )
    return _record(item, "network", str(props.get("provisioningState", "unknown")).lower(), meta, synced)
