"""horcrux VMs, monitoring and cluster nodes from ProxmoxNode objects.

Guests come from ``status.guests`` of every ProxmoxNode (bounded: at most 50 per ProxmoxNode; the
true totals are in ``status.guestCounts``). daytwo stores no per-guest memory, CPUs, disks or usage,
so those fields are ``None``; node figures come from ``status.nodes``. A VM's id is its vmid
(``"100"``); when two ProxmoxNodes have the same vmid, the first ProxmoxNode by name wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "Guest",
    "cluster_nodes",
    "find_guest",
    "guests",
    "node_stats",
    "prometheus_text",
    "vm_stats",
    "vm_view",
]


@dataclass(frozen=True)
class Guest:
    """One guest and the ProxmoxNode (CR) that reports it."""

    cr: str
    vmid: int
    name: str
    node: str
    kind: str
    status: str
    synced_at: str | None


def guests(objects: Iterable[Mapping[str, Any]]) -> list[Guest]:
    """All guests of all ProxmoxNodes, by vmid (first ProxmoxNode by name wins a duplicate vmid)."""
    seen: dict[int, Guest] = {}
    for obj in objects:
        status = obj.get("status") or {}
        for entry in status.get("guests") or []:
            vmid = int(entry["vmid"])
            if vmid not in seen:
                seen[vmid] = Guest(
                    obj["metadata"]["name"],
                    vmid,
                    str(entry.get("name") or f"{entry.get('kind', 'vm')}-{vmid}"),
                    str(entry.get("node", "")),
                    str(entry.get("kind", "vm")),
                    str(entry.get("status", "unknown")),
                    status.get("lastInventoryTime"),
                )
    return [seen[vmid] for vmid in sorted(seen)]


def find_guest(objects: Iterable[Mapping[str, Any]], vm_id: str) -> Guest | None:
    """The guest whose id (vmid) is ``vm_id``; None for an unknown or non-numeric id."""
    if not vm_id.isdigit():
        return None
    return next((g for g in guests(objects) if g.vmid == int(vm_id)), None)


def vm_view(guest: Guest) -> dict[str, Any]:
    """horcrux's VM object; figures daytwo does not store are None."""
    return {
        "id": str(guest.vmid),
        "name": guest.name,
        "hypervisor": "lxc" if guest.kind == "lxc" else "qemu",
        "status": guest.status,
        "memory": None,
        "cpus": None,
        "disk_size": None,
        "architecture": None,
        "disks": [],
        "created_at": None,
        "uptime_seconds": None,
        "node": guest.node,
        "proxmox_node": guest.cr,
    }


def vm_stats(guest: Guest) -> dict[str, Any]:
    """horcrux's per-VM stats: the power state; usage is not stored by daytwo (None)."""
    return {
        "vm_id": str(guest.vmid),
        "status": guest.status,
        "cpu_usage": None,
        "memory_used": None,
        "memory_total": None,
        "memory_usage": None,
        "disk_read_bytes": None,
        "disk_write_bytes": None,
        "network_rx_bytes": None,
        "network_tx_bytes": None,
        "uptime_seconds": None,
    }


def _nodes(objects: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    return [(obj, node) for obj in objects for node in (obj.get("status") or {}).get("nodes") or []]


def _uptime(node: Mapping[str, Any], now: datetime) -> int | None:
    booted = node.get("bootedAt")
    if not booted or not node.get("online"):
        return None
    moment = datetime.fromisoformat(str(booted).replace("Z", "+00:00"))
    return max(0, int((now - moment).total_seconds()))


def node_stats(objects: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """horcrux's node stats, summed over every online Proxmox node daytwo knows."""
    online = [node for _obj, node in _nodes(objects) if node.get("online")]
    cores = sum(int(n.get("maxcpu") or 0) for n in online)
    cpu = sum(float(n.get("cpu") or 0) * int(n.get("maxcpu") or 0) for n in online)
    mem, maxmem = sum(int(n.get("mem") or 0) for n in online), sum(int(n.get("maxmem") or 0) for n in online)
    disk, maxdisk = sum(int(n.get("disk") or 0) for n in online), sum(int(n.get("maxdisk") or 0) for n in online)
    uptimes = [u for u in (_uptime(n, now) for n in online) if u is not None]
    names = [str(n.get("name")) for n in online]
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
        "network_rx_bytes": None,
        "network_tx_bytes": None,
        "uptime_seconds": max(uptimes) if uptimes else 0,
        "load_average": [],
    }


def cluster_nodes(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """horcrux's cluster nodes: every Proxmox node of every ProxmoxNode, with its running guests."""
    running: dict[tuple[str, str], int] = {}
    for obj in objects:
        for guest in (obj.get("status") or {}).get("guests") or []:
            if guest.get("status") == "running":
                key = (obj["metadata"]["name"], str(guest.get("node")))
                running[key] = running.get(key, 0) + 1
    return [
        {
            "name": str(node.get("name")),
            "address": str((obj.get("spec") or {}).get("host", "")),
            "architecture": None,
            "status": "online" if node.get("online") else "offline",
            "cpu_cores": int(node.get("maxcpu") or 0),
            "memory_total": int(node.get("maxmem") or 0),
            "vms_running": running.get((obj["metadata"]["name"], str(node.get("name"))), 0),
            "joined_at": None,
            "proxmox_node": obj["metadata"]["name"],
        }
        for obj, node in _nodes(objects)
    ]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(objects: Sequence[Mapping[str, Any]]) -> str:
    """Prometheus exposition text of what daytwo knows about Proxmox (guests, nodes, operations)."""
    lines = [
        "# HELP horcrux_vm_running Whether the guest is running (1) or not (0).",
        "# TYPE horcrux_vm_running gauge",
    ]
    for guest in guests(objects):
        labels = f'vm_id="{guest.vmid}",name="{_label(guest.name)}",node="{_label(guest.node)}"'
        lines.append(f"horcrux_vm_running{{{labels}}} {1 if guest.status == 'running' else 0}")
    gauges = (
        ("horcrux_node_cpu_usage_ratio", "CPU usage of the node (0..1).", "cpu"),
        ("horcrux_node_memory_used_bytes", "Memory used on the node.", "mem"),
        ("horcrux_node_memory_total_bytes", "Memory of the node.", "maxmem"),
        ("horcrux_node_disk_used_bytes", "Root disk used on the node.", "disk"),
        ("horcrux_node_disk_total_bytes", "Root disk of the node.", "maxdisk"),
    )
    nodes = _nodes(objects)
    lines += ["# HELP horcrux_node_online Whether the node is online.", "# TYPE horcrux_node_online gauge"]
    lines += [
        f'horcrux_node_online{{node="{_label(str(n.get("name")))}",proxmox_node="{o["metadata"]["name"]}"}} '
        f"{1 if n.get('online') else 0}"
        for o, n in nodes
    ]
    for metric, help_text, key in gauges:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        lines += [
            f'{metric}{{node="{_label(str(n.get("name")))}",proxmox_node="{o["metadata"]["name"]}"}} {n[key]}'
            for o, n in nodes
            if n.get(key) is not None
        ]
    lines += [
        "# HELP horcrux_operations_total Finished power operations kept in history.",
        "# TYPE horcrux_operations_total gauge",
    ]
    for obj in objects:
        counts: dict[tuple[str, str], int] = {}
        for record in (obj.get("status") or {}).get("history") or []:
            pair = (str(record.get("operation")), str(record.get("status")))
            counts[pair] = counts.get(pair, 0) + 1
        for (operation, status), count in sorted(counts.items()):
            labels = f'proxmox_node="{obj["metadata"]["name"]}",operation="{operation}",status="{status}"'
            lines.append(f"horcrux_operations_total{{{labels}}} {count}")
    return "\n".join(lines) + "\n"
