"""horcrux VMs, monitoring and cluster nodes from ProxmoxNode objects and their guest inventories.

Guests come from each ProxmoxNode's guest inventory ConfigMaps (every guest, with usage), or from its
bounded ``status.guests`` until those exist (usage figures are then ``None``): see
:mod:`daytwo.api.views.pmi.guests`. Node figures come from ``status.nodes``. A VM's id is its vmid
(``"100"``); when two ProxmoxNodes have the same vmid, the first ProxmoxNode by name wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from daytwo.api.views.pmi.guests import SOURCE_INVENTORY, Guest, NodeGuests
from daytwo.api.views.pmi.nodes import node_spec
from daytwo.api.views.statuses import node_status
from daytwo.crds.proxmoxnode import NodeInfo

__all__ = [
    "Guest",
    "cluster_nodes",
    "complete",
    "guests",
    "node_stats",
    "prometheus_text",
    "vm_stats",
    "vm_view",
]

MIB = 2**20


def guests(nodes: Iterable[NodeGuests]) -> list[Guest]:
    """All guests of all ProxmoxNodes (``nodes`` by name), by vmid; the first ProxmoxNode wins a duplicate vmid."""
    seen: dict[int, Guest] = {}
    for node in nodes:
        for guest in node.guests:
            seen.setdefault(guest.vmid, guest)
    return [seen[vmid] for vmid in sorted(seen)]


def complete(nodes: Iterable[NodeGuests]) -> bool:
    """Whether every guest of every ProxmoxNode is listed (False while one falls back to a truncated status)."""
    return all(node.complete for node in nodes)


def _pct(part: int | None, whole: int | None) -> float | None:
    if part is None or whole is None:
        return None
    return round(part * 100.0 / whole, 1) if whole > 0 else 0.0


def _cpu_pct(guest: Guest) -> float | None:
    return None if guest.cpu is None else round(guest.cpu * 100.0, 1)


def vm_view(guest: Guest) -> dict[str, Any]:
    """horcrux's VM object (memory in MiB, disk_size in bytes); figures daytwo does not know are None."""
    return {
        "id": str(guest.vmid),
        "name": guest.name,
        "hypervisor": "lxc" if guest.kind == "lxc" else "qemu",
        "status": guest.status,
        "memory": None if guest.maxmem is None else guest.maxmem // MIB,
        "cpus": guest.cpus,
        "disk_size": guest.maxdisk,
        "architecture": None,
        "disks": [],
        "created_at": None,
        "uptime_seconds": guest.uptime,
        "node": guest.node,
        "proxmox_node": guest.cr,
        "tags": None if guest.tags is None else list(guest.tags),
        "template": guest.template,
    }


def vm_stats(guest: Guest) -> dict[str, Any]:
    """horcrux's per-VM stats from the guest inventory (None when only the status is known)."""
    return {
        "vm_id": str(guest.vmid),
        "status": guest.status,
        "cpu_usage": _cpu_pct(guest),
        "memory_used": guest.mem,
        "memory_total": guest.maxmem,
        "memory_usage": _pct(guest.mem, guest.maxmem),
        "disk_read_bytes": None,
        "disk_write_bytes": None,
        "network_rx_bytes": guest.netin,
        "network_tx_bytes": guest.netout,
        "uptime_seconds": guest.uptime,
        "disk_used": guest.disk,
        "disk_total": guest.maxdisk,
        "disk_usage": _pct(guest.disk, guest.maxdisk),
    }


def _nodes(objects: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], NodeInfo]]:
    return [(obj, node) for obj in objects for node in node_status(obj).nodes or []]


def _uptime(node: NodeInfo, now: datetime) -> int | None:
    if node.booted_at is None or not node.online:
        return None
    return max(0, int((now - node.booted_at).total_seconds()))


def _network(nodes: Sequence[NodeGuests]) -> tuple[int | None, int | None]:
    known = [g for node in nodes if node.source == SOURCE_INVENTORY for g in node.guests]
    if not known:
        return None, None
    return sum(g.netin or 0 for g in known), sum(g.netout or 0 for g in known)


def node_stats(objects: Sequence[Mapping[str, Any]], nodes: Sequence[NodeGuests], now: datetime) -> dict[str, Any]:
    """horcrux's node stats, summed over every online Proxmox node daytwo knows; network: the guests'
    byte counters summed over the guest inventories (None while no ProxmoxNode has one)."""
    online = [node for _obj, node in _nodes(objects) if node.online]
    cores = sum(n.maxcpu or 0 for n in online)
    cpu = sum((n.cpu or 0.0) * (n.maxcpu or 0) for n in online)
    mem, maxmem = sum(n.mem or 0 for n in online), sum(n.maxmem or 0 for n in online)
    disk, maxdisk = sum(n.disk or 0 for n in online), sum(n.maxdisk or 0 for n in online)
    uptimes = [u for u in (_uptime(n, now) for n in online) if u is not None]
    names = [n.name for n in online]
    rx, tx = _network(nodes)
    return {
        "hostname": names[0] if len(names) == 1 else ",".join(names),
        "cpu_usage": round(cpu * 100.0 / cores, 1) if cores else 0.0,
        "cpu_cores": cores,
        "memory_total": maxmem,
        "memory_used": mem,
        "memory_usage": round(mem * 100.0 / maxmem, 1) if maxmem else 0.0,
        "disk_total": maxdisk,
        "disk_used": disk,
        "disk_usage": round(disk * 100.0 / maxdisk, 1) if maxdisk else 0.0,
        "network_rx_bytes": rx,
        "network_tx_bytes": tx,
        "uptime_seconds": max(uptimes) if uptimes else 0,
        "load_average": [],
    }


def cluster_nodes(objects: Sequence[Mapping[str, Any]], nodes: Sequence[NodeGuests]) -> list[dict[str, Any]]:
    """horcrux's cluster nodes: every Proxmox node of every ProxmoxNode, with its running guests."""
    running: dict[tuple[str, str], int] = {}
    for inventory in nodes:
        for guest in inventory.guests:
            if guest.status == "running":
                key = (inventory.cr, guest.node)
                running[key] = running.get(key, 0) + 1
    return [
        {
            "name": node.name,
            "address": node_spec(obj).host,
            "architecture": None,
            "status": "online" if node.online else "offline",
            "cpu_cores": node.maxcpu or 0,
            "memory_total": node.maxmem or 0,
            "vms_running": running.get((obj["metadata"]["name"], node.name), 0),
            "joined_at": None,
            "proxmox_node": obj["metadata"]["name"],
        }
        for obj, node in _nodes(objects)
    ]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


#: Per-guest series (from the guest inventories): metric, type, help, Guest attribute.
GUEST_SERIES = (
    ("horcrux_vm_cpu_usage_ratio", "gauge", "CPU usage of the guest (0..1 of its CPUs).", "cpu"),
    ("horcrux_vm_cpus", "gauge", "CPUs of the guest.", "cpus"),
    ("horcrux_vm_memory_used_bytes", "gauge", "Memory used by the guest.", "mem"),
    ("horcrux_vm_memory_total_bytes", "gauge", "Memory of the guest.", "maxmem"),
    ("horcrux_vm_disk_used_bytes", "gauge", "Disk used by the guest (0 when Proxmox does not know).", "disk"),
    ("horcrux_vm_disk_total_bytes", "gauge", "Disk size of the guest.", "maxdisk"),
    ("horcrux_vm_network_receive_bytes_total", "counter", "Bytes received by the guest.", "netin"),
    ("horcrux_vm_network_transmit_bytes_total", "counter", "Bytes sent by the guest.", "netout"),
    ("horcrux_vm_uptime_seconds", "gauge", "Uptime of the guest.", "uptime"),
)


def _guest_lines(listed: Sequence[Guest]) -> list[str]:
    labels = {g.vmid: f'vm_id="{g.vmid}",name="{_label(g.name)}",node="{_label(g.node)}"' for g in listed}
    lines = [
        "# HELP horcrux_vm_running Whether the guest is running (1) or not (0).",
        "# TYPE horcrux_vm_running gauge",
    ]
    lines += [f"horcrux_vm_running{{{labels[g.vmid]}}} {1 if g.status == 'running' else 0}" for g in listed]
    for metric, kind, help_text, attribute in GUEST_SERIES:
        values = [(g, getattr(g, attribute)) for g in listed]
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        lines += [f"{metric}{{{labels[g.vmid]}}} {value}" for g, value in values if value is not None]
    return lines


def prometheus_text(objects: Sequence[Mapping[str, Any]], nodes: Sequence[NodeGuests]) -> str:
    """Prometheus exposition text of what daytwo knows about Proxmox (guests with usage, nodes, operations)."""
    lines = _guest_lines(guests(nodes))
    gauges = (
        ("horcrux_node_cpu_usage_ratio", "CPU usage of the node (0..1).", "cpu"),
        ("horcrux_node_memory_used_bytes", "Memory used on the node.", "mem"),
        ("horcrux_node_memory_total_bytes", "Memory of the node.", "maxmem"),
        ("horcrux_node_disk_used_bytes", "Root disk used on the node.", "disk"),
        ("horcrux_node_disk_total_bytes", "Root disk of the node.", "maxdisk"),
    )
    cluster = _nodes(objects)
    lines += ["# HELP horcrux_node_online Whether the node is online.", "# TYPE horcrux_node_online gauge"]
    lines += [
        f'horcrux_node_online{{node="{_label(n.name)}",proxmox_node="{o["metadata"]["name"]}"}} {1 if n.online else 0}'
        for o, n in cluster
    ]
    for metric, help_text, key in gauges:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        lines += [
            f'{metric}{{node="{_label(n.name)}",proxmox_node="{o["metadata"]["name"]}"}} {getattr(n, key)}'
            for o, n in cluster
            if getattr(n, key) is not None
        ]
    lines += [
        "# HELP horcrux_operations_total Finished power operations kept in history.",
        "# TYPE horcrux_operations_total gauge",
    ]
    for obj in objects:
        counts: dict[tuple[str, str], int] = {}
        for record in node_status(obj).history or []:
            pair = (record.operation, record.status)
            counts[pair] = counts.get(pair, 0) + 1
        for (operation, status), count in sorted(counts.items()):
            labels = f'proxmox_node="{obj["metadata"]["name"]}",operation="{operation}",status="{status}"'
            lines.append(f"horcrux_operations_total{{{labels}}} {count}")
    return "\n".join(lines) + "\n"
