"""pmi operation history from ProxmoxNode ``status.history`` (finished) and ``status.inFlight`` (running).

Bounded: the operator keeps the newest 50 finished operations per ProxmoxNode (MAX_STATUS_LIST).
Operations are named as pmi names them: start, stop (shutdown and hard stop), restart (reboot).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from daytwo.api.views.statuses import node_status
from daytwo.crds.proxmoxnode import InFlightOperation, OperationRecord
from daytwo.operator.shared.times import format_time

from .nodes import node_name

__all__ = ["OPERATION_NAMES", "STATUS_NAMES", "history_page", "operations"]

#: ProxmoxNode operation -> pmi operation.
OPERATION_NAMES = {"start": "start", "stop": "stop", "shutdown": "stop", "reboot": "restart"}
#: ProxmoxNode record status -> pmi status.
STATUS_NAMES = {"success": "success", "error": "failed", "running": "in_progress"}


def _record(
    obj: Mapping[str, Any], entry: InFlightOperation | OperationRecord, names: Mapping[int, str]
) -> dict[str, Any]:
    operation = str(entry.operation)
    finished = entry if isinstance(entry, OperationRecord) else None
    duration = finished.duration_ms if finished else None
    return {
        "id": entry.id,
        "timestamp": format_time(entry.submitted_at if isinstance(entry, InFlightOperation) else entry.time),
        "node": node_name(obj),
        "node_id": obj["metadata"]["name"],
        "resource_type": entry.kind or "vm",
        "resource_id": entry.vmid,
        "resource_name": names.get(entry.vmid),
        "operation": OPERATION_NAMES.get(operation, operation),
        "status": "in_progress" if finished is None else STATUS_NAMES.get(finished.status, finished.status),
        "duration": None if duration is None else round(duration / 1000.0, 3),
        "user": entry.user,
        "error_message": finished.error if finished else None,
        "details": {
            key: value
            for key, value in (
                ("proxmox_operation", operation),
                ("proxmox_node", entry.node),
                ("upid", entry.upid),
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
        status = node_status(obj)
        names = (guest_names or {}).get(obj["metadata"]["name"]) or {
            guest.vmid: guest.name or "" for guest in status.guests or []
        }
        rows += [_record(obj, entry, names) for entry in status.in_flight or []]
        rows += [_record(obj, entry, names) for entry in status.history or []]
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
