"""pf9 history/audit views: the change history daytwo has is its DriftEvents (plus VM creation times)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from .common import parse_time

__all__ = ["by_day", "change_row", "compare", "most_changed", "recent_changes", "resource_history"]


def change_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """A /drift/events row as a pf9 change record (``change_hash`` = the DriftEvent name)."""
    deleted = event.get("change") == "Deleted" or (event["new_value"] is None and event["old_value"] is not None)
    kind = event["resource_type"]
    if deleted:
        details = f"{kind} {event['resource_name'] or event['resource_id']} disappeared"
    else:
        details = f"{event['field_name']} changed from {event['old_value']} to {event['new_value']}"
    return {
        "timestamp": event["detected_at"],
        "type": f"{kind}_deleted" if deleted else f"{kind}_modified",
        "resource_type": kind,
        "resource_id": event["resource_id"],
        "resource_name": event["resource_name"],
        "project_name": event["tenant_name"],
        "domain_name": event["domain_name"],
        "field_name": event["field_name"],
        "old_value": event["old_value"],
        "new_value": event["new_value"],
        "user": None,
        "details": details,
        "change_hash": event["id"],
    }


def _created_rows(servers: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": s["created_at"],
            "type": "vm_created",
            "resource_type": "server",
            "resource_id": s["vm_id"],
            "resource_name": s["vm_name"],
            "project_name": s["tenant_name"],
            "domain_name": s["domain_name"],
            "field_name": None,
            "old_value": None,
            "new_value": None,
            "user": None,
            "details": f"New VM created with flavor {s['flavor_name']}" if s.get("flavor_name") else "New VM created",
            "change_hash": f"created-{s['vm_id']}",
        }
        for s in servers
        if s.get("created_at")
    ]


def recent_changes(
    events: Sequence[Mapping[str, Any]], servers: Sequence[Mapping[str, Any]], now: datetime, hours: int
) -> list[dict[str, Any]]:
    """Changes within ``hours`` before ``now``, newest first: drift events and VM creations."""
    since = now - timedelta(hours=hours)
    rows = [change_row(e) for e in events] + _created_rows(servers)
    recent = [r for r in rows if (moment := parse_time(r["timestamp"])) is not None and moment >= since]
    return sorted(recent, key=lambda r: (r["timestamp"], r["change_hash"]), reverse=True)


def most_changed(changes: Iterable[Mapping[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Resources with the most changes (ties by id)."""
    counts: Counter[tuple[str, str]] = Counter()
    names: dict[tuple[str, str], Any] = {}
    last: dict[tuple[str, str], str] = {}
    for row in changes:
        key = (str(row["resource_type"]), str(row["resource_id"]))
        counts[key] += 1
        names[key] = row["resource_name"]
        last[key] = max(last.get(key, ""), str(row["timestamp"] or ""))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        {
            "resource_type": t,
            "resource_id": i,
            "resource_name": names[(t, i)],
            "change_count": n,
            "last_changed": last[(t, i)] or None,
        }
        for (t, i), n in ordered
    ]


def by_day(changes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Changes per UTC day (newest first) with a per-type breakdown."""
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for row in changes:
        moment = parse_time(row["timestamp"])
        if moment is not None:
            days[moment.strftime("%Y-%m-%d")][str(row["resource_type"])] += 1
    return [
        {"period": day, "changes": sum(types.values()), "by_resource_type": dict(sorted(types.items()))}
        for day, types in sorted(days.items(), reverse=True)
    ]


def resource_history(events: Sequence[Mapping[str, Any]], resource_type: str, resource_id: str) -> list[dict[str, Any]]:
    """Every recorded change of one resource, newest first, numbered oldest = 1."""
    mine = [change_row(e) for e in events if e["resource_type"] == resource_type and e["resource_id"] == resource_id]
    mine.sort(key=lambda r: (r["timestamp"] or "", r["change_hash"]))
    for number, row in enumerate(mine, start=1):
        row["change_sequence"] = number
    return list(reversed(mine))


def compare(current: Mapping[str, Any], previous: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Field-level differences between two changes of a resource (each change records one field)."""
    fields = {}
    for row in (previous, current):
        fields[str(row["field_name"])] = {
            "field": row["field_name"],
            "previous": row["old_value"],
            "current": row["new_value"],
        }
    return sorted(fields.values(), key=lambda f: str(f["field"]))
