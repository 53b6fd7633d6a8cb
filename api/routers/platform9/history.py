"""pf9 /history/* and /audit/*: changes are DriftEvents (+ VM creations); the audit log is api/audit.py."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from daytwo.api.deps import AuditDep, Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.platform9 import history
from daytwo.api.views.platform9.common import parse_time
from fastapi import APIRouter, Query

from ._shared import ERRORS, PathId, event_rows
from ._shared import changes_within as _changes
from .monitoring import TimedRoute

__all__ = ["router"]

router = APIRouter(tags=["history"], route_class=TimedRoute, responses=ERRORS)

# A table of names like tenant_health.SORTS: same shape, different content (duplicate scan, issue 17).
TYPES = (
    "server",
    "domain",
    "project",
    "flavor",
    "image",
    "hypervisor",
    "network",
    "volume",
    "floating_ip",
    "snapshot",
    "port",
    "subnet",
    "router",
    "user",
    "role",
    "deletion",
    "security_group",
)
ResourceType = Annotated[str, Query(description="pf9 resource type")]


def _type(resource_type: str) -> str:
    if resource_type not in TYPES:
        raise ApiError(422, f"resource_type must be one of {', '.join(TYPES)}", "VALIDATION_ERROR")
    return resource_type


# Same parameter shape as /history/most-changed and /dashboard/recent-changes, different bounds and
# permissions per the reference: deliberate (duplicate scan, issue 17).
@router.get("/history/recent-changes", summary="Recent resource changes")
def recent_changes(
    store: StoreDep,
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Drift events and VM creations within ``hours``, newest first."""
    rows = _changes(store, hours)
    return {"changes": rows[:limit], "total": len(rows), "hours": hours}


@router.get("/history/most-changed", summary="Most changed resources")
def most_changed(
    store: StoreDep,
    hours: Annotated[int, Query(ge=1, le=8760)] = 24,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Resources by number of recorded changes."""
    return {"resources": history.most_changed(_changes(store, hours), limit), "hours": hours}


@router.get("/history/by-timeframe", summary="Changes per day")
def by_timeframe(
    store: StoreDep, days: Annotated[int, Query(ge=1, le=365)] = 7, user: Principal = require("history:read")
) -> dict[str, Any]:
    """Changes grouped per UTC day."""
    return {"timeframes": history.by_day(_changes(store, days * 24)), "days": days}


@router.get("/history/resource/{resource_type}/{resource_id}", summary="History of one resource")
def resource_history(
    resource_type: PathId,
    resource_id: PathId,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Every recorded change of the resource (``deletion``: its disappearance events)."""
    kind = _type(resource_type)
    events = event_rows(store)
    if kind == "deletion":
        rows = [history.change_row(e) for e in events if e["resource_id"] == resource_id and e["new_value"] is None]
    else:
        rows = history.resource_history(events, kind, resource_id)
    return {"resource_type": kind, "resource_id": resource_id, "history": rows[:limit], "total": len(rows)}


@router.get("/history/compare/{resource_type}/{resource_id}", summary="Compare two changes")
def compare(
    resource_type: PathId,
    resource_id: PathId,
    current_hash: str,
    previous_hash: str,
    store: StoreDep,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Field differences between two changes (hashes are DriftEvent names)."""
    kind = _type(resource_type)
    if kind == "deletion":
        return {"message": "Comparison is not available for deletions", "differences": []}
    rows = {r["change_hash"]: r for r in history.resource_history(event_rows(store), kind, resource_id)}
    if current_hash not in rows or previous_hash not in rows:
        raise ApiError(404, "Change not found for this resource (use change_hash values from its history)", "NOT_FOUND")
    return {
        "resource_type": kind,
        "resource_id": resource_id,
        "current_hash": current_hash,
        "previous_hash": previous_hash,
        "differences": history.compare(rows[current_hash], rows[previous_hash]),
    }


@router.get("/history/details/{resource_type}/{resource_id}", summary="Change details of a resource")
def details(
    resource_type: PathId, resource_id: PathId, store: StoreDep, user: Principal = require("history:read")
) -> dict[str, Any]:
    """Changes with sequence numbers and the fields they touched."""
    kind = _type(resource_type)
    rows = history.resource_history(event_rows(store), kind, resource_id)
    return {
        "resource_type": kind,
        "resource_id": resource_id,
        "total_changes": len(rows),
        "key_fields": sorted({str(r["field_name"]) for r in rows if r["field_name"]}),
        "changes": rows,
    }


@router.get("/audit/resource-timeline/{resource_type}", summary="Changes of a resource type per day")
def resource_timeline(
    resource_type: PathId,
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Changes of one resource type over ``days``, per day."""
    kind = _type(resource_type)
    rows = [r for r in _changes(store, days * 24) if r["resource_type"] == kind]
    return {"resource_type": kind, "days": days, "timeline": history.by_day(rows), "total": len(rows)}


@router.get("/audit/compliance-report", summary="Compliance report")
def compliance_report(
    store: StoreDep,
    start_date: date | None = None,
    end_date: date | None = None,
    user: Principal = require("history:read"),
) -> dict[str, Any]:
    """Snapshot SLA now, drift in the period (default: the last 30 days)."""
    end = end_date or datetime.now(UTC).date()
    start = start_date or end - timedelta(days=30)
    if start > end:
        raise ApiError(422, "start_date must not be after end_date", "VALIDATION_ERROR")
    events = [e for e in event_rows(store) if (m := parse_time(e["detected_at"])) and start <= m.date() <= end]
    compliant = total = 0
    for policy in store.list("SnapshotPolicy"):
        for t in ((policy.get("status") or {}).get("sla") or {}).get("tenants") or []:
            compliant += int(t.get("compliant", 0))
            total += int(t.get("total", 0))
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "snapshot_compliance_pct": round(compliant * 100.0 / total, 1) if total else 100.0,
        "volumes_evaluated": total,
        "drift_events": len(events),
        "drift_unacknowledged": sum(1 for e in events if not e["acknowledged"]),
        "drift_by_severity": dict(Counter(e["severity"] for e in events)),
    }


@router.get("/audit/log", summary="The facade's audit log")
def audit_log(
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    username: str | None = None,
    action: str | None = None,
    user: Principal = require("audit:read"),
) -> dict[str, Any]:
    """Who did what through the facade, newest first (pf9 pagination: total/limit/offset/results)."""
    total, rows = audit.entries(offset=offset, limit=limit, user=username, action=action)
    return {"total": total, "limit": limit, "offset": offset, "results": rows}
