"""pf9 /dashboard/* (besides the snapshot ones in snapshots.py) from inventory, drift and SLA status."""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.views.platform9 import health, inventory
from fastapi import APIRouter, Query

from ._shared import ERRORS, changes_within, estate, event_rows, memo, not_implemented, now_iso, volume_rows
from .monitoring import TimedRoute
from .tenant_health import tenant_table

__all__ = ["router"]

router = APIRouter(tags=["dashboard"], route_class=TimedRoute, responses=ERRORS)


@router.get("/dashboard/health-summary", summary="System-wide summary")
def health_summary(store: StoreDep, user: Principal = require("dashboard:read")) -> dict[str, Any]:
    """Counts from the inventory; alerts = unacknowledged drift by severity; allocation averages."""

    def compute() -> dict[str, Any]:
        found = estate(store)
        servers = inventory.servers(found)
        hosts = health.host_rows(inventory.hypervisors(found))
        events = [e for e in event_rows(store) if not e["acknowledged"]]
        return {
            "total_tenants": len(tenant_table(store)),
            "total_vms": len(servers),
            "vms_running": sum(1 for s in servers if s["status"] == "ACTIVE"),
            "total_volumes": len(volume_rows(store)),
            "total_networks": len(inventory.networks(found)),
            "avg_cpu_utilization": round(sum(h["cpu_percent"] for h in hosts) / len(hosts), 1) if hosts else 0.0,
            "avg_memory_utilization": round(sum(h["memory_percent"] for h in hosts) / len(hosts), 1) if hosts else 0.0,
            "alerts": {
                level: sum(1 for e in events if e["severity"] == level) for level in ("critical", "warning", "info")
            },
            "metrics_last_update": found.synced_at,
        }

    versions = (store.version("ConfigMap"), store.version("DriftEvent"), store.version("SnapshotPolicy"))
    return {"timestamp": now_iso(), **memo(store).get("health-summary", versions, compute)}


@router.get("/dashboard/top-hosts-utilization", summary="Hosts by allocation")
def top_hosts(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
    sort: Annotated[str, Query(pattern="^(cpu|memory)$")] = "cpu",
    user: Principal = require("dashboard:read"),
) -> dict[str, Any]:
    """Hypervisors by vCPU or RAM allocation (needs inventory kind compute)."""
    hosts = health.host_rows(inventory.hypervisors(estate(store)))
    hosts.sort(key=lambda h: h["cpu_percent" if sort == "cpu" else "memory_percent"], reverse=True)
    return {"hosts": hosts[:limit], "total_hosts": len(hosts), "timestamp": now_iso()}


# Duplicate scan: the parameter list of /history/recent-changes with this route's own bounds and permission
# (the reference's); both read shared.changes_within.
@router.get("/dashboard/recent-changes", summary="Recent infrastructure changes")
def recent_changes(
    store: StoreDep,
    hours: Annotated[int, Query(ge=1, le=720)] = 24,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    user: Principal = require("dashboard:read"),
) -> dict[str, Any]:
    """Drift events and VM creations within ``hours``."""
    changes = changes_within(store, hours)
    keys = ("timestamp", "type", "resource_id", "resource_name", "project_name", "user", "details")
    return {
        "changes": [{k: c[k] for k in keys} for c in changes[:limit]],
        "total_changes": len(changes),
        "period_hours": hours,
    }


@router.get("/dashboard/capacity-pressure", summary="Capacity warnings")
def capacity_pressure(store: StoreDep, user: Principal = require("dashboard:read")) -> dict[str, Any]:
    """Hosts at 75%+ allocation; storage pools are not inventoried (empty list)."""
    hosts = health.host_rows(inventory.hypervisors(estate(store)))
    return {
        "storage_pressure": [],
        "compute_pressure": [
            {
                "hostname": h["hostname"],
                "cpu_used_percent": h["cpu_percent"],
                "memory_used_percent": h["memory_percent"],
                "status": h["status"],
            }
            for h in hosts
            if h["status"] != "ok"
        ],
    }


@router.get("/dashboard/tenant-risk-scores", summary="Risk per tenant")
def tenant_risk(store: StoreDep, user: Principal = require("dashboard:read")) -> dict[str, Any]:
    """Risk = 100 - health score; factors from power state, snapshot compliance and drift."""
    tenants = []
    for row in tenant_table(store):
        risk = 100 - row["health_score"]
        missing = 100 - row["compliance_pct"] if row["compliance_pct"] is not None else 0
        advice = []
        if row["error_servers"]:
            advice.append(f"Investigate {row['error_servers']} servers in ERROR")
        if missing:
            advice.append(f"Snapshot compliance is {row['compliance_pct']}%: check the SnapshotPolicies' SLA")
        if row["critical_drift_events"]:
            advice.append(f"Review {row['critical_drift_events']} critical drift events")
        tenants.append(
            {
                "tenant_id": row["project_id"],
                "tenant_name": row["project_name"],
                "risk_score": risk,
                "risk_level": "high" if risk > 50 else "medium" if risk > 20 else "low",
                "factors": {
                    "overutilization": None,
                    "missing_snapshots": round(missing, 1),
                    "drift": min(100, 10 * row["total_drift_events"]),
                    "cost_trend": None,
                },
                "recommendations": advice,
            }
        )
    tenants.sort(key=lambda t: -t["risk_score"])
    return {"tenants": tenants}


def _no_history(what: str) -> Any:
    return not_implemented(what, "daytwo keeps the current inventory and SLA, not their history or utilisation metrics")


@router.get("/dashboard/vm-hotspots", summary="Top VMs by utilisation (not supported)")
def vm_hotspots(user: Principal = require("dashboard:read")) -> None:
    """VM utilisation metrics are not collected."""
    raise _no_history("VM utilisation hotspots")


@router.get("/dashboard/compliance-drift", summary="Compliance trend (not supported)")
def compliance_drift(user: Principal = require("dashboard:read")) -> None:
    """Compliance history is not kept."""
    raise _no_history("Compliance trending")


@router.get("/dashboard/capacity-trends", summary="Capacity trend (not supported)")
def capacity_trends(user: Principal = require("dashboard:read")) -> None:
    """Capacity history is not kept."""
    raise _no_history("Capacity trending")


@router.get("/dashboard/trendlines", summary="Growth trendlines (not supported)")
def trendlines(user: Principal = require("dashboard:read")) -> None:
    """Inventory history is not kept."""
    raise _no_history("Growth trendlines")
