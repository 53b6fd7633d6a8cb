"""pf9 /tenant-health/*: per-project health from the inventory, SLA status and drift events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import health, inventory
from daytwo.api.views.platform9.common import parse_time, sort_rows
from fastapi import APIRouter, Query

from ._shared import ERRORS, PathId, estate, event_rows, memo, volume_rows
from .monitoring import TimedRoute

__all__ = ["router", "tenant_table"]

router = APIRouter(tags=["tenant-health"], route_class=TimedRoute, responses=ERRORS)

SORTS = (
    "health_score",
    "project_name",
    "domain_name",
    "total_servers",
    "total_volumes",
    "total_networks",
    "total_drift_events",
    "compliance_pct",
)


def tenant_table(store: ObjectStore) -> list[dict[str, Any]]:
    """Health rows of every project (memoised on the inventory, policies and drift events)."""

    def compute() -> list[dict[str, Any]]:
        found = estate(store)
        return health.tenant_rows(
            inventory.servers(found),
            volume_rows(store),
            inventory.networks(found),
            event_rows(store),
            health.sla_by_tenant(store.list("SnapshotPolicy")),
        )

    versions = (store.version("ConfigMap"), store.version("SnapshotPolicy"), store.version("DriftEvent"))
    return memo(store).get("tenant-health", versions, compute)


def _tenant(store: ObjectStore, project_id: str) -> dict[str, Any]:
    row = next((r for r in tenant_table(store) if r["project_id"] == project_id), None)
    if row is None:
        raise ApiError(404, f"Project {project_id!r} is in no synced inventory", "NOT_FOUND")
    return row


@router.get("/tenant-health/overview", summary="Health of every tenant")
def overview(
    store: StoreDep,
    domain_id: str | None = None,
    sort_by: str = "health_score",
    sort_dir: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    search: Annotated[str | None, Query(max_length=256)] = None,
    user: Principal = require("tenant_health:read"),
) -> dict[str, Any]:
    """Summary counts and one row per tenant."""
    rows = [
        r
        for r in tenant_table(store)
        if (not domain_id or r["domain_id"] == domain_id)
        and (not search or search.lower() in f"{r['project_name']} {r['domain_name'] or ''}".lower())
    ]
    statuses = Counter(r["health_status"] for r in rows)
    return {
        "summary": {
            "total_tenants": len(rows),
            "healthy": statuses.get("healthy", 0),
            "warning": statuses.get("warning", 0),
            "critical": statuses.get("critical", 0),
            "avg_health_score": round(sum(r["health_score"] for r in rows) / len(rows), 1) if rows else 0.0,
        },
        "tenants": sort_rows(rows, sort_by, sort_dir, SORTS),
    }


@router.get("/tenant-health/heatmap", summary="Tenant utilisation heatmap")
def heatmap(
    store: StoreDep, domain_id: str | None = None, user: Principal = require("tenant_health:read")
) -> dict[str, Any]:
    """Per-tenant utilisation score (60% VM activity + 40% volume use)."""
    keys = (
        "project_id",
        "project_name",
        "domain_name",
        "health_score",
        "total_servers",
        "active_servers",
        "shutoff_servers",
        "error_servers",
        "total_vcpus",
        "active_vcpus",
        "total_ram_mb",
        "active_ram_mb",
        "power_on_pct",
        "total_volumes",
        "total_volume_gb",
        "total_drift_events",
        "compliance_pct",
        "utilization_score",
    )
    rows = [r for r in tenant_table(store) if not domain_id or r["domain_id"] == domain_id]
    return {"tenants": [{**{k: r[k] for k in keys}, "critical_drift": r["critical_drift_events"]} for r in rows]}


@router.get("/tenant-health/trends/{project_id}", summary="Daily drift trend of a tenant")
def trends(
    project_id: PathId,
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    user: Principal = require("tenant_health:read"),
) -> dict[str, Any]:
    """Drift events per day; compliance and score are known for today only (no history is kept)."""
    row = _tenant(store, project_id)
    today = datetime.now(UTC).date()
    counts = Counter(
        moment.date()
        for e in event_rows(store)
        if e["tenant_name"] == project_id and (moment := parse_time(e["detected_at"])) is not None
    )
    points = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        points.append(
            {
                "date": day.isoformat(),
                "drift_events": counts.get(day, 0),
                "snapshots_created": None,
                "compliance_pct": row["compliance_pct"] if offset == 0 else None,
                "health_score": row["health_score"] if offset == 0 else None,
            }
        )
    return {"project_id": project_id, "project_name": row["project_name"], "period_days": days, "trends": points}


@router.get("/tenant-health/quota/{project_id}", summary="Live quota of a tenant")
def quota(project_id: PathId, user: Principal = require("tenant_health:read")) -> dict[str, Any]:
    """pf9's graceful "unavailable": the facade never calls the cloud and quotas are not inventoried."""
    return {"available": False, "reason": "daytwo does not inventory quotas and the facade never calls the cloud"}


@router.get("/tenant-health/{project_id}", summary="Health detail of a tenant")
def detail(project_id: PathId, store: StoreDep, user: Principal = require("tenant_health:read")) -> dict[str, Any]:
    """Resource breakdown, top volumes and recent drift of one tenant."""
    return health.tenant_detail(_tenant(store, project_id), volume_rows(store), event_rows(store))
