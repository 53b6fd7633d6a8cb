"""ProxmoxNode guest inventory: every guest with usage, and a bounded history of cluster totals, in ConfigMaps.

Status keeps at most MAX_STATUS_LIST guests and no usage, so each inventory pass also writes the chunked
ConfigMaps of :mod:`.chunked`: the head ``<node>-guests`` (``manifest.json``, ``history.json`` and the first
chunk of ``records.json``) and further chunks ``<node>-guests-<i>``, labelled ``daytwo.io/proxmoxnode: <node>``
and owned by the ProxmoxNode. ``history.json`` gains one sample of cluster totals per pass (at most
:data:`HISTORY_LIMIT`, oldest first); the handler passes the existing head in, so a restarted operator
keeps the history. Pure: plain data in, ConfigMap bodies out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..shared.times import format_time, parse_time
from .chunked import CHUNK_BYTES, chunk_name, chunk_records, chunked_configmaps
from .proxmoxnode import GuestView, Observation

__all__ = [
    "GUESTS_LABEL",
    "GUESTS_SUFFIX",
    "HISTORY_LIMIT",
    "guest_configmaps",
    "guest_record",
    "guests_configmap_name",
    "history_sample",
    "next_history",
]

GUESTS_LABEL = "daytwo.io/proxmoxnode"
GUESTS_SUFFIX = "-guests"
#: Samples kept in history.json: a day at the default 60-second inventory interval.
HISTORY_LIMIT = 1440
#: A pass closer than this share of the interval to the last sample (a wake-up, or the 1-second polls
#: while power operations run) replaces that sample instead of adding one, so samples stay ~interval apart.
_MIN_SPACING = 0.5


def guests_configmap_name(node: str, index: int) -> str:
    """Name of chunk ``index`` of a ProxmoxNode's guest inventory (0 = the head ``<node>-guests``)."""
    return chunk_name(node, GUESTS_SUFFIX, index)


def guest_record(guest: GuestView) -> dict[str, Any]:
    """One guest as stored in records.json: every key always present (0 / [] / false when PVE gave nothing)."""
    return {
        "vmid": guest.vmid,
        "name": guest.name,
        "node": guest.node,
        "kind": guest.kind,
        "status": guest.status,
        "template": guest.template,
        "tags": list(guest.tags),
        "cpus": guest.cpus,
        "cpu": round(guest.cpu, 4),
        "mem": guest.mem,
        "maxmem": guest.maxmem,
        "disk": guest.disk,
        "maxdisk": guest.maxdisk,
        "netin": guest.netin,
        "netout": guest.netout,
        "uptime": guest.uptime,
    }


def history_sample(observation: Observation, now: datetime) -> dict[str, Any]:
    """Cluster totals of one pass: usage of the online nodes (CPU weighted by their CPUs), guest traffic
    counters and running guests. Node figures come from the node list status.nodes is built from."""
    online = [node for node in observation.nodes if node.online]
    cpus = sum(node.maxcpu for node in online)
    busy = sum(round(node.cpu, 4) * node.maxcpu for node in online)
    return {
        "t": format_time(now),
        "cpu": round(busy / cpus, 4) if cpus else 0.0,
        "cpus": cpus,
        "mem": sum(node.mem for node in online),
        "maxmem": sum(node.maxmem for node in online),
        "disk": sum(node.disk for node in online),
        "maxdisk": sum(node.maxdisk for node in online),
        "netin": sum(guest.netin for guest in observation.guests),
        "netout": sum(guest.netout for guest in observation.guests),
        "running": sum(1 for guest in observation.guests if guest.status == "running"),
    }


def next_history(
    head: Mapping[str, str] | None, sample: Mapping[str, Any], interval: float, limit: int = HISTORY_LIMIT
) -> dict[str, Any]:
    """history.json after this pass: the samples of the existing head's history.json (``head`` is its data,
    None when there is none; an unreadable one starts afresh) with ``sample`` appended, oldest first, at
    most ``limit``. A sample less than half an interval after the last one replaces it."""
    samples = _samples((head or {}).get("history.json"))
    if samples and _seconds_between(samples[-1].get("t"), sample["t"]) < interval * _MIN_SPACING:
        samples.pop()
    samples.append(dict(sample))
    return {"intervalSeconds": int(interval), "samples": samples[-limit:] if limit > 0 else []}


def guest_configmaps(
    node: Mapping[str, Any], guests: Sequence[GuestView], history: Mapping[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """The guest inventory ConfigMaps of one pass, head first: every guest sorted by vmid, counts by kind,
    and ``history`` as the head's history.json (its bytes come off the head's records budget, so the head
    stays inside the object limit with a full history)."""
    records = [guest_record(guest) for guest in sorted(guests, key=lambda guest: (guest.vmid, guest.node))]
    history_json = json.dumps(history, separators=(",", ":"), sort_keys=True)
    chunks = chunk_records(records, first_budget=CHUNK_BYTES - len(history_json.encode()))
    counts = {
        "vm": sum(1 for guest in guests if guest.kind == "vm"),
        "lxc": sum(1 for guest in guests if guest.kind == "lxc"),
    }
    return chunked_configmaps(
        node,
        label=GUESTS_LABEL,
        suffix=GUESTS_SUFFIX,
        provider="proxmox",
        chunks=chunks,
        counts=counts,
        synced_at=now,
        head_data={"history.json": history_json},
    )


def _samples(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        document = json.loads(text)
    except ValueError:
        return []
    samples = document.get("samples") if isinstance(document, dict) else None
    return [dict(item) for item in samples or () if isinstance(item, dict)] if isinstance(samples, list) else []


def _seconds_between(earlier: Any, later: str) -> float:
    try:
        start, end = parse_time(str(earlier)), parse_time(later)
    except ValueError:
        return float("inf")
    return float("inf") if start is None or end is None else (end - start).total_seconds()
