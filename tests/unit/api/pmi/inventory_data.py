"""ProxmoxNode guest inventory ConfigMaps built by hand in the documented format (/tmp/issues/proxmox-guests.md):
``<node>-guests`` head (manifest.json, history.json, records.json) and ``<node>-guests-<i>`` chunks."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from .data import NAMESPACE

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def guest_record(vmid: int, **extra: Any) -> dict[str, Any]:
    """One guest record with every documented key (running VM on pve1 unless told)."""
    return {
        "vmid": vmid,
        "name": f"guest-{vmid}",
        "node": "pve1",
        "kind": "vm",
        "status": "running",
        "template": False,
        "tags": ["prod"],
        "cpus": 2,
        "cpu": 0.25,
        "mem": 1024 * 2**20,
        "maxmem": 4096 * 2**20,
        "disk": 5 * 2**30,
        "maxdisk": 20 * 2**30,
        "netin": 1000 + vmid,
        "netout": 2000 + vmid,
        "uptime": 3600,
        **extra,
    }


def records(count: int, first: int = 100) -> list[dict[str, Any]]:
    """``count`` guests from vmid ``first``: every third an LXC container, every fourth stopped."""
    return [
        guest_record(
            vmid,
            kind="lxc" if index % 3 == 2 else "vm",
            status="stopped" if index % 4 == 3 else "running",
            uptime=0 if index % 4 == 3 else 3600 + index,
        )
        for index, vmid in enumerate(range(first, first + count))
    ]


def sample(minute: int, cpu: float = 0.5, mem: int = 50, netin: int = 1000) -> dict[str, Any]:
    """One history sample ``minute`` minutes after START (mem: percent of 100 bytes; disk 25 of 100)."""
    moment = (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "t": moment,
        "cpu": cpu,
        "cpus": 8,
        "mem": mem,
        "maxmem": 100,
        "disk": 25,
        "maxdisk": 100,
        "netin": netin,
        "netout": 2 * netin,
        "running": 3,
    }


def guest_cms(
    cr: str = "pve-lab",
    guests: list[dict[str, Any]] | None = None,
    chunks: int = 2,
    samples: list[dict[str, Any]] | None = None,
    interval: int = 60,
    synced: str = "2026-11-30T12:00:00Z",
    version: str = "1",
) -> list[dict[str, Any]]:
    """The ConfigMaps of one inventory pass: ``guests`` in ``chunks`` chunks (head first), with real sha256s."""
    guests = records(60) if guests is None else guests
    size = -(-len(guests) // chunks) if guests else 0
    parts = [guests[i * size : (i + 1) * size] for i in range(chunks)] if size else [[]]
    names = [f"{cr}-guests"] + [f"{cr}-guests-{i}" for i in range(1, len(parts))]
    texts = [json.dumps(part, separators=(",", ":"), sort_keys=True) for part in parts]
    manifest = {
        "format": "daytwo.io/inventory.v1",
        "provider": "proxmox",
        "syncedAt": synced,
        "counts": {"vm": sum(g["kind"] == "vm" for g in guests), "lxc": sum(g["kind"] == "lxc" for g in guests)},
        "records": len(guests),
        "chunks": [
            {"name": n, "sha256": hashlib.sha256(t.encode()).hexdigest()} for n, t in zip(names, texts, strict=True)
        ],
    }
    maps = []
    for index, (name, text) in enumerate(zip(names, texts, strict=True)):
        data = {"records.json": text}
        if index == 0:
            data["manifest.json"] = json.dumps(manifest)
            data["history.json"] = json.dumps({"intervalSeconds": interval, "samples": samples or []})
        labels = {
            "daytwo.io/proxmoxnode": cr,
            "app.kubernetes.io/part-of": "daytwo",
            "app.kubernetes.io/managed-by": "daytwo",
            "daytwo.io/inventory-chunk": str(index),
        }
        metadata = {"name": name, "namespace": NAMESPACE, "labels": labels, "resourceVersion": f"{version}{index}"}
        maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    return maps
