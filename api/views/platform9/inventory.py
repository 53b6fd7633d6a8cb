"""CloudCredential inventory ConfigMaps -> pf9 infrastructure rows (/servers, /volumes, /networks, ...).

The operator stores each credential's inventory as ``<cred>-inventory`` (``manifest.json`` + the first
``records.json`` chunk) and ``<cred>-inventory-<n>`` chunks, labelled ``daytwo.io/credential=<cred>``.
Record metadata values are strings; the helpers here turn them back into numbers and booleans.

:func:`parse_inventories` reads any inventory in that manifest/chunk format: ProxmoxNode guest inventories
(``daytwo.io/proxmoxnode``, read by the horcrux and pmi views) use it with their own owner label.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .common import iso

__all__ = [
    "CREDENTIAL_LABEL",
    "CredentialInventory",
    "Estate",
    "Inventory",
    "estate",
    "flavors",
    "hypervisors",
    "networks",
    "parse_inventories",
    "projects",
    "servers",
    "volumes",
]

CREDENTIAL_LABEL = "daytwo.io/credential"


@dataclass(frozen=True)
class Inventory:
    """One owner's last synced inventory (a CloudCredential's, or a ProxmoxNode's guests).

    ``complete``: every chunk the manifest lists is there with its sha256 and the record count matches
    (False while the operator is between writes of a multi-chunk inventory). ``extra``: the head's other
    data entries, unparsed (e.g. a ProxmoxNode's ``history.json``).
    """

    owner: str
    provider: str
    synced_at: str | None
    records: tuple[dict[str, Any], ...]
    counts: Mapping[str, int] = field(default_factory=dict)
    complete: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def credential(self) -> str:
        """The owner's name (a CloudCredential's, for the cloud inventories)."""
        return self.owner


#: The CloudCredential inventories' name for :class:`Inventory`.
CredentialInventory = Inventory


@dataclass
class Estate:
    """Every OpenStack inventory, by record type (vm, storage, network, hypervisor, flavor, aggregate)."""

    inventories: list[Inventory] = field(default_factory=list)
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The records of one type (``[]`` when none were synced)."""
        return self.by_type.get(kind, [])

    @property
    def synced_at(self) -> str | None:
        """The newest sync time of any inventory."""
        return max((inv.synced_at for inv in self.inventories if inv.synced_at), default=None)


def _json(text: Any, fallback: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else fallback
    except ValueError:
        return fallback


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def parse_inventories(configmaps: Iterable[Mapping[str, Any]], label: str = CREDENTIAL_LABEL) -> list[Inventory]:
    """The inventories held by ConfigMaps labelled ``label`` (= owner name), by owner; chunks in the manifest's
    order, missing ones skipped (and the inventory marked incomplete)."""
    by_name = {cm["metadata"]["name"]: cm for cm in configmaps}
    found = []
    for cm in by_name.values():
        data = cm.get("data") or {}
        owner = (cm["metadata"].get("labels") or {}).get(label)
        if not owner or "manifest.json" not in data:
            continue
        manifest = _json(data["manifest.json"], None)
        if not isinstance(manifest, dict):
            continue
        records: list[dict[str, Any]] = []
        chunks = manifest.get("chunks") or [{"name": cm["metadata"]["name"]}]
        complete = True
        for chunk in chunks:
            source = by_name.get(str(chunk.get("name")))
            if source is None:
                complete = False
                continue
            text = (source.get("data") or {}).get("records.json")
            if chunk.get("sha256") and hashlib.sha256(str(text).encode()).hexdigest() != chunk["sha256"]:
                complete = False
            loaded = _json(text, [])
            records.extend(r for r in loaded if isinstance(r, dict))
        if isinstance(manifest.get("records"), int) and manifest["records"] != len(records):
            complete = False
        extra = {k: v for k, v in data.items() if k not in ("manifest.json", "records.json") and isinstance(v, str)}
        found.append(
            Inventory(
                owner,
                str(manifest.get("provider", "")),
                iso(manifest.get("syncedAt")),
                tuple(records),
                _counts(manifest.get("counts")),
                complete,
                extra,
            )
        )
    return sorted(found, key=lambda inv: inv.owner)


def estate(inventories: Sequence[Inventory]) -> Estate:
    """The OpenStack inventories grouped by record type (each record tagged with its credential)."""
    result = Estate(inventories=[inv for inv in inventories if inv.provider == "openstack"])
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for inv in result.inventories:
        for record in inv.records:
            grouped[str(record.get("type", ""))].append({**record, "credential": inv.credential})
    result.by_type = dict(grouped)
    return result


def _int(meta: Mapping[str, Any], key: str) -> int | None:
    try:
        return int(float(meta[key]))
    except (KeyError, TypeError, ValueError):
        return None


def _bool(meta: Mapping[str, Any], key: str) -> bool | None:
    value = meta.get(key)
    if value is None:
        return None
    return str(value).lower() in ("true", "1", "yes")


def _ids(text: Any) -> list[str]:
    return [part for part in str(text or "").split(",") if part]


def servers(found: Estate) -> list[dict[str, Any]]:
    """pf9 /servers rows: flavor sizes, IPs, disk (sum of attached volumes) and per-host allocation."""
    disk_of: dict[str, int] = defaultdict(int)
    for volume in found.of("storage"):
        for server_id in _ids((volume.get("metadata") or {}).get("attached_to")):
            disk_of[server_id] += _int(volume.get("metadata") or {}, "size_gb") or 0
    hosts = {h.get("name"): h.get("metadata") or {} for h in found.of("hypervisor")}
    per_host: dict[str, dict[str, int]] = defaultdict(lambda: {"vcpus": 0, "ram": 0, "running": 0})
    for vm in found.of("vm"):
        meta = vm.get("metadata") or {}
        host = meta.get("hypervisor_hostname") or meta.get("host")
        if host and str(vm.get("status", "")).lower() == "active":
            per_host[host]["vcpus"] += _int(meta, "vcpus") or 0
            per_host[host]["ram"] += _int(meta, "ram_mb") or 0
            per_host[host]["running"] += 1
    rows = []
    for vm in found.of("vm"):
        meta = vm.get("metadata") or {}
        host = meta.get("hypervisor_hostname") or meta.get("host")
        host_meta = hosts.get(host, {})
        allocated = per_host.get(host) if host else None
        ips = [ip for ip in (*_ids(meta.get("private_ip")), *_ids(meta.get("public_ip")))]
        rows.append(
            {
                "vm_id": vm.get("resource_id", ""),
                "vm_name": vm.get("name", ""),
                "domain_name": meta.get("domain_name"),
                "tenant_name": meta.get("project_name") or meta.get("project_id"),
                "tenant_id": meta.get("project_id"),
                "status": str(vm.get("status", "")).upper(),
                "flavor_name": meta.get("flavor"),
                "vcpus": _int(meta, "vcpus"),
                "ram_mb": _int(meta, "ram_mb"),
                "disk_gb": disk_of.get(vm.get("resource_id", ""), _int(meta, "disk_gb") or 0),
                "ips": ", ".join(ips),
                "image_name": meta.get("image_name") or meta.get("image_id"),
                "hypervisor_hostname": host,
                "host_vcpus_total": _int(host_meta, "vcpus"),
                "host_vcpus_used": allocated["vcpus"] if allocated else None,
                "host_ram_total_mb": _int(host_meta, "memory_mb"),
                "host_ram_used_mb": allocated["ram"] if allocated else None,
                "host_disk_total_gb": _int(host_meta, "local_gb"),
                "host_disk_used_gb": _int(host_meta, "local_gb_used"),
                "host_running_vms": allocated["running"] if allocated else None,
                "region": vm.get("region"),
                "credential": vm.get("credential"),
                "created_at": iso(vm.get("created_at")),
            }
        )
    return rows


def volumes(found: Estate) -> list[dict[str, Any]]:
    """pf9 /volumes rows."""
    names = {vm.get("resource_id"): vm.get("name") for vm in found.of("vm")}
    rows = []
    for volume in found.of("storage"):
        meta = volume.get("metadata") or {}
        attached = _ids(meta.get("attached_to"))
        rows.append(
            {
                "volume_id": volume.get("resource_id", ""),
                "volume_name": volume.get("name", ""),
                "status": volume.get("status", ""),
                "size_gb": _int(meta, "size_gb") or 0,
                "volume_type": meta.get("volume_type"),
                "bootable": bool(_bool(meta, "bootable")),
                "project_id": meta.get("project_id"),
                "tenant_name": meta.get("project_name") or meta.get("project_id"),
                "attached_to": attached,
                "attached_names": [names.get(server_id) or server_id for server_id in attached],
                "availability_zone": meta.get("availability_zone"),
                "region": volume.get("region"),
                "credential": volume.get("credential"),
                "created_at": iso(volume.get("created_at")),
            }
        )
    return rows


def networks(found: Estate) -> list[dict[str, Any]]:
    """pf9 /networks rows."""
    return [
        {
            "network_id": net.get("resource_id", ""),
            "network_name": net.get("name", ""),
            "status": str(net.get("status", "")).upper(),
            "project_id": (net.get("metadata") or {}).get("project_id"),
            "shared": bool(_bool(net.get("metadata") or {}, "shared")),
            "external": bool(_bool(net.get("metadata") or {}, "external")),
            "subnet_count": _int(net.get("metadata") or {}, "subnets") or 0,
            "mtu": _int(net.get("metadata") or {}, "mtu"),
            "region": net.get("region"),
            "credential": net.get("credential"),
        }
        for net in found.of("network")
    ]


def hypervisors(found: Estate) -> list[dict[str, Any]]:
    """pf9 /hypervisors rows: the compute inventory's hypervisors, else hosts seen on servers."""
    allocated: dict[str, dict[str, int]] = defaultdict(lambda: {"vcpus": 0, "ram": 0, "running": 0})
    for row in servers(found):
        host = row["hypervisor_hostname"]
        if host and row["status"] == "ACTIVE":
            allocated[host]["vcpus"] += row["vcpus"] or 0
            allocated[host]["ram"] += row["ram_mb"] or 0
            allocated[host]["running"] += 1
    rows = []
    seen = set()
    for hyp in found.of("hypervisor"):
        meta = hyp.get("metadata") or {}
        name = str(hyp.get("name", ""))
        seen.add(name)
        rows.append(
            {
                "id": str(hyp.get("resource_id", "")),
                "hypervisor_hostname": name,
                "host": meta.get("host"),
                "status": hyp.get("status"),
                "state": meta.get("state"),
                "hypervisor_type": meta.get("hypervisor_type"),
                "vcpus": _int(meta, "vcpus"),
                "vcpus_used": _int(meta, "vcpus_used"),
                "memory_mb": _int(meta, "memory_mb"),
                "memory_mb_used": _int(meta, "memory_mb_used"),
                "running_vms": _int(meta, "running_vms"),
                "credential": hyp.get("credential"),
            }
        )
    for host, use in sorted(allocated.items()):
        if host not in seen:
            rows.append(
                {
                    "id": host,
                    "hypervisor_hostname": host,
                    "host": host,
                    "status": None,
                    "state": None,
                    "hypervisor_type": None,
                    "vcpus": None,
                    "vcpus_used": use["vcpus"],
                    "memory_mb": None,
                    "memory_mb_used": use["ram"],
                    "running_vms": use["running"],
                    "credential": None,
                }
            )
    return rows


def flavors(found: Estate) -> list[dict[str, Any]]:
    """pf9 /flavors rows: the compute inventory's flavors, else the flavors servers use."""
    counts: dict[str, int] = defaultdict(int)
    sizes: dict[str, dict[str, Any]] = {}
    for vm in found.of("vm"):
        meta = vm.get("metadata") or {}
        if meta.get("flavor"):
            counts[meta["flavor"]] += 1
            sizes.setdefault(meta["flavor"], meta)
    rows = []
    for flavor in found.of("flavor"):
        meta = flavor.get("metadata") or {}
        name = str(flavor.get("name", ""))
        rows.append(
            {
                "id": str(flavor.get("resource_id", "")),
                "name": name,
                "vcpus": _int(meta, "vcpus"),
                "ram_mb": _int(meta, "ram_mb"),
                "disk_gb": _int(meta, "disk_gb"),
                "is_public": _bool(meta, "is_public"),
                "server_count": counts.pop(name, 0),
            }
        )
    for name, count in sorted(counts.items()):
        meta = sizes[name]
        row = {"id": name, "name": name, "vcpus": _int(meta, "vcpus"), "ram_mb": _int(meta, "ram_mb")}
        rows.append({**row, "disk_gb": None, "is_public": None, "server_count": count})
    return rows


def projects(found: Estate) -> list[dict[str, Any]]:
    """pf9 /projects (/tenants) rows: every project id seen on a record, with resource counts."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"vm": 0, "storage": 0, "network": 0})
    for kind in ("vm", "storage", "network"):
        for record in found.of(kind):
            project = (record.get("metadata") or {}).get("project_id")
            if project:
                counts[project][kind] += 1
    return [
        {
            "project_id": project,
            "project_name": project,
            "server_count": use["vm"],
            "volume_count": use["storage"],
            "network_count": use["network"],
        }
        for project, use in sorted(counts.items())
    ]
