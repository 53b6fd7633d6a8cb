"""Tenant health, host allocation, change history and the shared helpers (hand-computed)."""

from __future__ import annotations

from datetime import UTC, datetime

from daytwo.api.cached import Memo
from daytwo.api.views.platform9 import drift, health, history, inventory
from daytwo.api.views.platform9.common import iso, limit_offset, page, parse_time, percent, sort_rows

from .data import event, inventory_cms, policy


def _inputs() -> tuple[list, list, list, list]:
    found = inventory.estate(inventory.parse_inventories(inventory_cms()))
    events = [
        drift.event_row(event("e1", tenant="proj-b")),
        drift.event_row(event("e2", tenant="proj-b", severity="warning")),
        drift.event_row(event("e3", tenant="proj-b", acked=True)),
    ]
    return inventory.servers(found), inventory.volumes(found), inventory.networks(found), events


def test_tenant_rows_scores() -> None:
    servers, volumes, networks, events = _inputs()
    rows = {
        r["project_id"]: r
        for r in health.tenant_rows(servers, volumes, networks, events, health.sla_by_tenant([policy()]))
    }
    a, b = rows["proj-a"], rows["proj-b"]
    # proj-a: no errors, compliance 75 -> 100 - 0.3*25 = 92.5 -> 92 (banker's rounding of 92.5)
    assert (a["compliance_pct"], a["health_score"], a["health_status"]) == (75.0, 92, "healthy")
    assert (a["total_servers"], a["active_servers"], a["shutoff_servers"], a["power_on_pct"]) == (2, 1, 1, 50.0)
    assert (a["total_volumes"], a["in_use_volumes"], a["total_volume_gb"], a["total_networks"]) == (2, 1, 520, 1)
    assert a["utilization_score"] == 50.0  # 0.6*50 + 0.4*50
    # proj-b: 1 error server (-5), 1 error volume (-3), compliance 0 (-30), open critical (-5) and warning (-2)
    assert (b["health_score"], b["health_status"], b["total_drift_events"], b["critical_drift_events"]) == (
        55,
        "warning",
        3,
        2,
    )
    detail = health.tenant_detail(b, volumes, events)
    assert detail["resources"]["servers"] == {"total": 1, "active": 0, "shutoff": 0, "error": 1}
    assert detail["top_volumes"][0]["attached_to"] == "api-01" and len(detail["recent_drift_events"]) == 3


def test_health_status_thresholds_and_hosts() -> None:
    assert [health.health_status(s) for s in (80, 79, 50, 49)] == ["healthy", "warning", "warning", "critical"]
    hosts = health.host_rows(
        [
            {
                "hypervisor_hostname": "h",
                "vcpus": 8,
                "vcpus_used": 6,
                "memory_mb": 1000,
                "memory_mb_used": 950,
                "running_vms": 3,
            },
            {"hypervisor_hostname": "x", "vcpus": None},
        ]
    )
    assert hosts == [
        {"hostname": "h", "cpu_percent": 75.0, "memory_percent": 95.0, "vm_count": 3, "status": "critical"}
    ]


def test_history() -> None:
    servers, _, _, events = _inputs()
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    changes = history.recent_changes(events, servers, now, 24)
    # three drift events at 08:30 and vm-1 created at 07:00
    assert [c["type"] for c in changes] == ["server_modified"] * 3 + ["vm_created"]
    assert changes[0]["details"] == "status changed from ACTIVE to SHUTOFF"
    assert history.recent_changes(events, servers, now, 1) == []
    top = history.most_changed(changes, 1)
    assert top == [
        {
            "resource_type": "server",
            "resource_id": "id-web-01",
            "resource_name": "web-01",
            "change_count": 3,
            "last_changed": "2026-11-30T08:30:00Z",
        }
    ]
    assert history.by_day(changes) == [{"period": "2026-11-30", "changes": 4, "by_resource_type": {"server": 4}}]
    mine = history.resource_history(events, "server", "id-web-01")
    assert [r["change_sequence"] for r in mine] == [3, 2, 1]
    assert history.compare(mine[0], mine[1]) == [{"field": "status", "previous": "ACTIVE", "current": "SHUTOFF"}]
    deleted = history.change_row(drift.event_row(event("d", new=None)))
    assert deleted["type"] == "server_deleted" and deleted["details"] == "server web-01 disappeared"


def test_common_helpers() -> None:
    assert iso("2026-11-30T08:30:00+01:00") == "2026-11-30T07:30:00Z" and iso(None) is None and iso("bad") is None
    assert parse_time("2026-11-30T08:30:00") == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    assert (percent(1, 3), percent(0, 0)) == (33.3, 100.0)
    assert page([1, 2, 3, 4, 5], 2, 2) == [3, 4] and page([1], 0, 5) == [1]
    assert limit_offset([1, 2, 3], 1, 1) == {"total": 3, "limit": 1, "offset": 1, "results": [2]}
    rows = [{"a": 2}, {"a": None}, {"a": 1}]
    assert sort_rows(rows, "a", "asc", ["a"]) == [{"a": 1}, {"a": 2}, {"a": None}]
    assert sort_rows(rows, "b", "asc", ["a"]) == rows
    memo, calls = Memo(max_entries=2), []
    assert memo.get("k", 1, lambda: calls.append(1) or "x") == "x"
    assert memo.get("k", 1, lambda: calls.append(1) or "y") == "x"
    assert memo.get("k", 2, lambda: calls.append(1) or "z") == "z" and len(calls) == 2
