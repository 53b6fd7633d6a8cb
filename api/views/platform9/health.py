"""pf9 tenant health and operational dashboards from inventory rows, SLA status and drift events.

Health score (pf9's formula, daytwo's weights): start at 100; minus 5 per error server, 3 per error
volume, 0.3 per point of snapshot compliance below 100, 5 per unacknowledged critical and 2 per
unacknowledged warning drift event; clamped to 0..100. 80+ healthy, 50+ warning, else critical.
Host figures are allocations (vCPUs/RAM of running VMs against the hypervisor's capacity): daytwo
does not collect utilisation metrics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .common import percent

__all__ = ["health_status", "host_rows", "tenant_detail", "tenant_rows"]


def health_status(score: float) -> str:
    """pf9's thresholds."""
    return "healthy" if score >= 80 else "warning" if score >= 50 else "critical"


def _compliance(sla_tenants: Mapping[str, tuple[int, int]], project: str) -> float | None:
    counts = sla_tenants.get(project)
    return percent(counts[0], counts[1]) if counts and counts[1] else None


def sla_by_tenant(policies: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Tenant -> (compliant, total) summed over every policy's status.sla."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for policy in policies:
        for t in ((policy.get("status") or {}).get("sla") or {}).get("tenants") or []:
            found[str(t.get("tenant"))][0] += int(t.get("compliant", 0))
            found[str(t.get("tenant"))][1] += int(t.get("total", 0))
    return {k: (v[0], v[1]) for k, v in found.items()}


def tenant_rows(
    servers: Sequence[Mapping[str, Any]],
    volumes: Sequence[Mapping[str, Any]],
    networks: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    sla: Mapping[str, tuple[int, int]],
) -> list[dict[str, Any]]:
    """One health row per project seen in the inventory (pf9 /tenant-health/overview fields)."""
    projects: set[str] = set()
    by_servers: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_volumes: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_events: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    net_count: dict[str, int] = defaultdict(int)
    for s in servers:
        if s.get("tenant_id"):
            by_servers[s["tenant_id"]].append(s)
            projects.add(s["tenant_id"])
    for v in volumes:
        if v.get("project_id"):
            by_volumes[v["project_id"]].append(v)
            projects.add(v["project_id"])
    for n in networks:
        if n.get("project_id"):
            net_count[n["project_id"]] += 1
            projects.add(n["project_id"])
    for e in events:
        if e.get("tenant_name"):
            by_events[e["tenant_name"]].append(e)
    rows = []
    for project in sorted(projects):
        mine = by_servers[project]
        vols = by_volumes[project]
        drift = by_events.get(project, [])
        statuses = [s["status"] for s in mine]
        active = [s for s in mine if s["status"] == "ACTIVE"]
        errors = statuses.count("ERROR")
        vol_errors = sum(1 for v in vols if str(v["status"]).startswith("error"))
        compliance = _compliance(sla, project)
        open_critical = sum(1 for e in drift if e["severity"] == "critical" and not e["acknowledged"])
        open_warning = sum(1 for e in drift if e["severity"] == "warning" and not e["acknowledged"])
        raw = 100.0 - 5 * errors - 3 * vol_errors - 5 * open_critical - 2 * open_warning
        raw -= 0.3 * (100 - compliance) if compliance is not None else 0
        score = int(max(0, min(100, round(raw))))
        in_use = sum(1 for v in vols if v["status"] == "in-use")
        power_on = percent(len(active), len(mine), 2) if mine else 0.0
        rows.append(
            {
                "project_id": project,
                "project_name": project,
                "domain_id": None,
                "domain_name": next((s["domain_name"] for s in mine if s.get("domain_name")), None),
                "health_score": score,
                "health_status": health_status(score),
                "total_servers": len(mine),
                "active_servers": len(active),
                "shutoff_servers": statuses.count("SHUTOFF"),
                "error_servers": errors,
                "other_servers": len(mine) - len(active) - statuses.count("SHUTOFF") - errors,
                "total_vcpus": sum(s["vcpus"] or 0 for s in mine),
                "total_ram_mb": sum(s["ram_mb"] or 0 for s in mine),
                "total_flavor_disk_gb": sum(s["disk_gb"] or 0 for s in mine),
                "active_vcpus": sum(s["vcpus"] or 0 for s in active),
                "active_ram_mb": sum(s["ram_mb"] or 0 for s in active),
                "hypervisor_count": len({s["hypervisor_hostname"] for s in mine if s.get("hypervisor_hostname")}),
                "power_on_pct": power_on,
                "total_volumes": len(vols),
                "error_volumes": vol_errors,
                "in_use_volumes": in_use,
                "available_volumes": sum(1 for v in vols if v["status"] == "available"),
                "total_volume_gb": sum(v["size_gb"] or 0 for v in vols),
                "total_networks": net_count[project],
                "total_snapshots": None,
                "compliance_pct": compliance,
                "total_drift_events": len(drift),
                "critical_drift_events": sum(1 for e in drift if e["severity"] == "critical"),
                "warning_drift_events": sum(1 for e in drift if e["severity"] == "warning"),
                "utilization_score": round(
                    0.6 * power_on + 0.4 * percent(in_use, len(vols)) if vols else 0.6 * power_on, 1
                ),
            }
        )
    return rows


def tenant_detail(
    row: Mapping[str, Any], volumes: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """/tenant-health/{project_id}: the row's counts regrouped, the biggest volumes and the newest drift."""
    mine = sorted((v for v in volumes if v.get("project_id") == row["project_id"]), key=lambda v: -(v["size_gb"] or 0))
    drift = sorted(
        (e for e in events if e.get("tenant_name") == row["project_id"]),
        key=lambda e: e["detected_at"] or "",
        reverse=True,
    )
    return {
        "project_id": row["project_id"],
        "project_name": row["project_name"],
        "domain_name": row["domain_name"],
        "health_score": row["health_score"],
        "health_status": row["health_status"],
        "resources": {
            "servers": {
                "total": row["total_servers"],
                "active": row["active_servers"],
                "shutoff": row["shutoff_servers"],
                "error": row["error_servers"],
            },
            "volumes": {
                "total": row["total_volumes"],
                "available": row["available_volumes"],
                "in_use": row["in_use_volumes"],
                "error": row["error_volumes"],
            },
            "snapshots": {"total": None, "available": None, "error": None},
            "networks": {"total": row["total_networks"]},
        },
        "compliance_pct": row["compliance_pct"],
        "top_volumes": [
            {
                "volume_id": v["volume_id"],
                "volume_name": v["volume_name"],
                "size_gb": v["size_gb"],
                "status": v["status"],
                "attached_to": ", ".join(v["attached_names"]) or None,
            }
            for v in mine[:10]
        ],
        "recent_drift_events": [
            {
                key: e[key]
                for key in (
                    "id",
                    "resource_type",
                    "resource_name",
                    "field_name",
                    "old_value",
                    "new_value",
                    "severity",
                    "detected_at",
                )
            }
            for e in drift[:10]
        ],
    }


def host_rows(hypervisors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Hosts with allocation percentages (only those whose capacity the compute inventory reports)."""
    rows = []
    for h in hypervisors:
        if not h.get("vcpus") or not h.get("memory_mb"):
            continue
        cpu = round((h.get("vcpus_used") or 0) * 100.0 / h["vcpus"], 1)
        memory = round((h.get("memory_mb_used") or 0) * 100.0 / h["memory_mb"], 1)
        worst = max(cpu, memory)
        rows.append(
            {
                "hostname": h["hypervisor_hostname"],
                "cpu_percent": cpu,
                "memory_percent": memory,
                "vm_count": h.get("running_vms") or 0,
                "status": "critical" if worst >= 90 else "warning" if worst >= 75 else "ok",
            }
        )
    return rows
