"""Every guest of a ProxmoxNode: its guest inventory ConfigMaps, else the bounded ``status.guests``.

The operator keeps each ProxmoxNode's whole guest list, with usage, in ConfigMaps labelled
``daytwo.io/proxmoxnode=<name>`` (``<name>-guests`` head with ``manifest.json`` and ``history.json``,
``<name>-guests-<i>`` chunks; the same manifest/chunk format as the cloud inventories, parsed by the
shared :func:`~daytwo.api.views.platform9.inventory.parse_inventories`). Until those exist (an operator
that has not made a pass yet), the guests come from ``status.guests``: at most 50, no usage (those
figures are None) and :attr:`NodeGuests.complete` False when ``status.guestCounts`` counts more.
Both the horcrux and the pmi views read guests through here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from daytwo.api.views.platform9.common import iso, parse_time
from daytwo.api.views.platform9.inventory import parse_inventories
from daytwo.api.views.statuses import node_status
from daytwo.crds.proxmoxnode import GuestCounts

__all__ = ["GUESTS_LABEL", "SOURCE_INVENTORY", "SOURCE_STATUS", "Guest", "NodeGuests", "by_owner", "node_guests"]

#: Label of a ProxmoxNode's guest inventory ConfigMaps (value: the ProxmoxNode's name).
GUESTS_LABEL = "daytwo.io/proxmoxnode"
#: Where a ProxmoxNode's guests came from.
SOURCE_INVENTORY = "inventory"
SOURCE_STATUS = "status"


@dataclass(frozen=True, slots=True)
class Guest:
    """One guest and the ProxmoxNode (CR) reporting it; usage figures are None when only the status is known."""

    cr: str
    vmid: int
    name: str
    node: str
    kind: str
    status: str
    synced_at: str | None
    template: bool | None = None
    tags: tuple[str, ...] | None = None
    cpus: int | None = None
    cpu: float | None = None
    mem: int | None = None
    maxmem: int | None = None
    disk: int | None = None
    maxdisk: int | None = None
    netin: int | None = None
    netout: int | None = None
    uptime: int | None = None


@dataclass(frozen=True, eq=False)
class NodeGuests:
    """One ProxmoxNode's guests (by vmid) and cluster-total samples; compared by identity (memo keys)."""

    cr: str
    source: str
    guests: tuple[Guest, ...]
    synced_at: str | None
    total_vms: int
    total_containers: int
    complete: bool
    samples: tuple[Mapping[str, Any], ...] = ()
    interval_seconds: int | None = None
    sample_times: tuple[float, ...] = ()
    """POSIX time of each sample (parsed once)."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _name(entry: Mapping[str, Any], vmid: int) -> str:
    return str(entry.get("name") or f"{entry.get('kind') or 'vm'}-{vmid}")


def _record_guest(cr: str, record: Mapping[str, Any], synced_at: str | None) -> Guest | None:
    vmid = _int(record.get("vmid"))
    if vmid is None:
        return None
    tags = record.get("tags")
    return Guest(
        cr,
        vmid,
        _name(record, vmid),
        str(record.get("node") or ""),
        "lxc" if record.get("kind") == "lxc" else "vm",
        str(record.get("status") or "unknown"),
        synced_at,
        bool(record.get("template")),
        tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        _int(record.get("cpus")),
        _float(record.get("cpu")),
        _int(record.get("mem")),
        _int(record.get("maxmem")),
        _int(record.get("disk")),
        _int(record.get("maxdisk")),
        _int(record.get("netin")),
        _int(record.get("netout")),
        _int(record.get("uptime")),
    )


def _samples(text: str | None) -> tuple[list[tuple[float, Mapping[str, Any]]], int | None]:
    try:
        history = json.loads(text) if text else {}
    except ValueError:
        return [], None
    if not isinstance(history, dict):
        return [], None
    samples = history.get("samples")
    kept = []
    for entry in samples if isinstance(samples, list) else ():
        moment = parse_time(entry.get("t")) if isinstance(entry, dict) else None
        if moment is not None:
            kept.append((moment.timestamp(), entry))
    return sorted(kept, key=lambda pair: pair[0]), _int(history.get("intervalSeconds"))


def _from_status(obj: Mapping[str, Any]) -> NodeGuests:
    cr = str(obj["metadata"]["name"])
    status = node_status(obj)
    synced = iso(status.last_inventory_time)
    seen: dict[int, Guest] = {}
    for entry in status.guests or []:
        if entry.vmid not in seen:
            kind = "lxc" if entry.kind == "lxc" else "vm"
            name = entry.name or f"{entry.kind or 'vm'}-{entry.vmid}"
            seen[entry.vmid] = Guest(cr, entry.vmid, name, entry.node, kind, entry.status or "unknown", synced)
    counts = status.guest_counts or GuestCounts()
    vms, containers = counts.vms, counts.containers
    listed = tuple(seen[vmid] for vmid in sorted(seen))
    return NodeGuests(cr, SOURCE_STATUS, listed, synced, vms, containers, len(listed) >= vms + containers)


def node_guests(obj: Mapping[str, Any], configmaps: Iterable[Mapping[str, Any]]) -> NodeGuests:
    """ProxmoxNode ``obj``'s guests from its inventory ConfigMaps (``configmaps``: any; only those labelled
    with its name are read), else from its status."""
    cr = str(obj["metadata"]["name"])
    mine = [cm for cm in configmaps if (cm.get("metadata", {}).get("labels") or {}).get(GUESTS_LABEL) == cr]
    found = next((inv for inv in parse_inventories(mine, GUESTS_LABEL) if inv.owner == cr), None)
    if found is None:
        return _from_status(obj)
    seen: dict[int, Guest] = {}
    for record in found.records:
        guest = _record_guest(cr, record, found.synced_at)
        if guest is not None and guest.vmid not in seen:
            seen[guest.vmid] = guest
    listed = tuple(seen[vmid] for vmid in sorted(seen))
    vms = sum(1 for g in listed if g.kind == "vm")
    samples, interval = _samples(found.extra.get("history.json"))
    return NodeGuests(
        cr,
        SOURCE_INVENTORY,
        listed,
        found.synced_at,
        int(found.counts.get("vm", vms)),
        int(found.counts.get("lxc", len(listed) - vms)),
        found.complete,
        tuple(entry for _at, entry in samples),
        interval,
        tuple(at for at, _entry in samples),
    )


def by_owner(configmaps: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The guest inventory ConfigMaps by ProxmoxNode name (other ConfigMaps left out)."""
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for cm in configmaps:
        owner = (cm.get("metadata", {}).get("labels") or {}).get(GUESTS_LABEL)
        if owner:
            grouped[str(owner)].append(cm)
    return dict(grouped)
