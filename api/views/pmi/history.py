"""pmi operation history from ProxmoxNode ``status.history`` (finished) and ``status.inFlight`` (running).

Bounded: the operator keeps the newest 50 finished operations per ProxmoxNode (MAX_STATUS_LIST).
Operations are named as pmi names them: start, stop (shutdown and hard stop), restart (reboot).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .nodes import node_name

__all__ = ["OPERATION_NAMES", "STATUS_NAMES", "history_page", "operations"]

#: ProxmoxNode operation -> pmi operation.
OPERATION_NAMES = {"start": "start", "stop": "stop", "shutdown": "stop", "reboot": "restart"}
#: ProxmoxNode record status -> pmi status.
STATUS_NAMES = {"success": "success", "error": "failed", "running": "in_progress"}


def _record(
    obj: Mapping[str, Any], entry: Mapping[str, Any], names: Mapping[int, str], running: bool
) -> dict[str, Any]:
    operation = str(entry.get("operation", ""))
    duration = entry.get("durationMs")
    return {
        "id": str(entry.get("id", "")),
        "timestamp": entry.get("submittedAt") if running else entry.get("time"),
        "node": node_name(obj),
        "node_id": obj["metadata"]["name"],
        "resource_type": entry.get("kind") or "vm",
        "resource_id": int(entry.get("vmid", 0)),
        "resource_name": names.get(int(entry.get("vmid", 0))),
        "operation": OPERATION_NAMES.get(operation, operation),
        "status": "in_progress" if running else STATUS_NAMES.get(str(entry.get("status")), str(entry.get("status"))),
        "duration": None if duration is None else round(int(duration) / 1000.0, 3),
        "user": entry.get("user"),
        "error_message": entry.get("error"),
        "details": {
            key: value
            for key, value in (
                ("proxmox_operation", operation),
                ("proxmox_node", entry.get("node")),
                ("upid", entry.get("upid")),
            )
            if value
        },
    }


def operations(
    objects: Iterable[Mapping[str, Any]], guest_names: Mapping[str, Mapping[int, str]] | None = None
) -> list[dict[str, Any]]:
    """Every recorded operation of ``objects``, running ones first, then newest first; guests named from
    ``guest_names`` (ProxmoxNode -> vmid -> name, e.g. the guest inventory), else from ``status.guests``."""
    rows: list[dict[str, Any]] = []
    for obj in objects:
        status = obj.get("status") or {}
        names = (guest_names or {}).get(obj["metadata"]["name"]) or {
            int(g["vmid"]): str(g.get("name") or "") for g in status.get("guests") or []
        }
        rows += [_record(obj, entry, names, True) for entry in status.get("inFlight") or []]
        rows += [_record(obj, entry, names, False) for entry in status.get("history") or []]
    return sorted(rows, key=lambda row: (row["status"] != "in_progress", _desc(row["timestamp"])))


def _desc(timestamp: Any) -> str:
    # ISO strings sort lexicographically; invert for newest first
    return "".join(chr(0x10FFFF - ord(c)) for c in str(timestamp or ""))


def history_page(
    rows: list[dict[str, Any]],
    *,
    node: str | None,
    resource_type: str | None,
    operation_type: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """pmi's ``{operations, total, limit, offset, filters}`` after the documented filters."""
    selected = [
        row
        for row in rows
        if (node is None or node in (row["node"], row["node_id"]))
        and (resource_type is None or row["resource_type"] == resource_type)
        and (operation_type is None or row["operation"] == operation_type)
        and (status is None or row["status"] == status)
    ]
    return {
        "operations": selected[offset : offset + limit],
        "total": len(selected),
        "limit": limit,
        "offset": offset,
        "filters": {"node": node, "resource_type": resource_type, "operation_type": operation_type, "status": status},
    }
