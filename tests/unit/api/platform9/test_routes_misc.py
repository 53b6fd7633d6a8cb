"""Infrastructure, dashboards, tenant health, history, monitoring, settings; the write-route auth table."""

from __future__ import annotations

import functools

import pytest

from .conftest import World
from .data import credential, event, inventory_cms, policy, rule


def _world() -> World:
    return World(
        [
            credential(),
            *inventory_cms(),
            policy(),
            rule("status-rule"),
            event("e1", tenant="proj-b"),
            event("e2", tenant="proj-a", acked=True),
        ]
    )


def test_servers_page_filter_sort() -> None:
    w = _world()
    body = w.get("/servers", params={"page_size": 2, "sort_by": "vm_name"}).json()
    assert (body["total"], body["page"], [s["vm_name"] for s in body["items"]]) == (3, 1, ["api-01", "db-01"])
    assert w.get("/servers", params={"status": "active"}).json()["items"][0]["vm_id"] == "vm-1"
    assert w.get("/servers", params={"tenant_id": "proj-b"}).json()["total"] == 1


def test_other_inventory_reads() -> None:
    w = _world()
    assert w.get("/volumes", params={"project_id": "proj-a"}).json()["total"] == 2
    assert w.get("/networks").json()["items"][0]["network_id"] == "net-1"
    assert w.get("/hypervisors").json()["items"][0]["hypervisor_hostname"] == "cmp-1"
    assert {f["name"] for f in w.get("/flavors").json()["items"]} == {"m1.small", "m1.large"}
    assert w.get("/tenants").json() == w.get("/projects").json()
    assert w.get("/domains").json()["items"][0]["project_count"] == 2
    assert w.get("/volumes/vol-1/metadata").json() == {"volume_id": "vol-1", "auto_snapshot": False, "policies": []}
    assert w.get("/volumes/nope/metadata").status_code == 404
    assert w.get("/volumes/metadata/bulk").json()["total"] == 3


def test_not_inventoried_and_unsupported_writes_answer_501_in_the_envelope() -> None:
    w = _world()
    sub = w.get("/subnets")
    assert sub.status_code == 501 and "not supported by daytwo" in sub.json()["detail"]
    assert w.get("/security-groups/sg-1").status_code == 501
    assert w.send("POST", "/admin/networks", role=None).status_code == 401
    assert w.send("POST", "/admin/networks", role="operator").status_code == 403
    created = w.send("POST", "/admin/networks", role="admin")
    assert created.status_code == 501 and created.json()["detail"].startswith("Creating networks is not supported")
    assert w.send("DELETE", "/admin/flavors/f1", role="admin").status_code == 501


def test_dashboards() -> None:
    w = _world()
    summary = w.get("/dashboard/health-summary").json()
    assert (summary["total_vms"], summary["vms_running"], summary["total_volumes"], summary["total_tenants"]) == (
        3,
        1,
        3,
        2,
    )
    assert summary["alerts"] == {"critical": 1, "warning": 0, "info": 0}
    assert summary["avg_cpu_utilization"] == 75.0
    hosts = w.get("/dashboard/top-hosts-utilization", params={"sort": "memory"}).json()
    assert hosts["hosts"][0]["memory_percent"] == 91.6 and hosts["total_hosts"] == 1
    assert w.get("/dashboard/top-hosts-utilization", params={"limit": 21}).status_code == 422
    assert w.get("/dashboard/capacity-pressure").json()["compute_pressure"][0]["status"] == "critical"
    risks = w.get("/dashboard/tenant-risk-scores").json()["tenants"]
    assert risks[0]["tenant_id"] == "proj-b"
    assert w.get("/dashboard/recent-changes", params={"hours": 720}).json()["period_hours"] == 720
    assert w.get("/dashboard/trendlines").status_code == 501


def test_tenant_health() -> None:
    w = _world()
    overview = w.get("/tenant-health/overview").json()
    assert overview["summary"]["total_tenants"] == 2
    assert [t["project_id"] for t in overview["tenants"]] == ["proj-a", "proj-b"]  # score desc
    assert w.get("/tenant-health/proj-b").json()["resources"]["servers"]["error"] == 1
    assert w.get("/tenant-health/nope").status_code == 404
    assert len(w.get("/tenant-health/trends/proj-a", params={"days": 3}).json()["trends"]) == 3
    assert w.get("/tenant-health/quota/proj-a").json()["available"] is False
    assert len(w.get("/tenant-health/heatmap").json()["tenants"]) == 2


def test_history_and_audit() -> None:
    w = _world()
    changes = w.get("/history/resource/server/id-web-01").json()
    assert changes["total"] == 2
    first, second = (c["change_hash"] for c in changes["history"])
    diff = w.get("/history/compare/server/id-web-01", params={"current_hash": first, "previous_hash": second}).json()
    assert diff["differences"][0]["field"] == "status"
    assert w.get("/history/resource/bogus/x").status_code == 422
    assert w.get("/history/details/server/id-web-01").json()["key_fields"] == ["status"]
    report = w.get("/audit/compliance-report", params={"start_date": "2026-11-01", "end_date": "2026-11-30"}).json()
    assert (report["drift_events"], report["snapshot_compliance_pct"]) == (2, 50.0)
    assert w.send("PUT", "/drift/events/e1/acknowledge", role="operator").status_code == 200
    assert w.get("/audit/log").status_code == 403
    log = w.get("/audit/log", role="admin", params={"action": "drift."}).json()
    assert log["total"] == 1 and log["results"][0]["user"] == "operator"
    assert log["results"][0]["target"] == "DriftEvent/e1"


def test_monitoring() -> None:
    w = _world()
    assert w.get("/health", role=None).json()["service"] == "pf9-mgmt-api"
    w.get("/drift/events")
    metrics = w.get("/metrics", role=None).json()
    assert metrics["request_count"] >= 2 and set(metrics) == {
        "uptime_seconds",
        "request_count",
        "avg_response_time_ms",
        "error_rate",
        "active_sessions",
    }
    text = w.client.get("/metrics", headers={"Accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain") and "pf9_request_count_total" in text.text
    assert 'pf9_cached_objects{kind="DriftEvent"} 2' in text.text
    assert w.get("/api/metrics", role=None).status_code == 401
    assert w.get("/api/logs", role="admin").status_code == 501


def test_branding_and_preferences() -> None:
    w = _world()
    assert w.get("/settings/branding", role=None).json()["primary_color"] == "#667eea"
    assert w.send("PUT", "/settings/branding", role="operator", json={"company_name": "ACME"}).status_code == 403
    assert w.send("PUT", "/settings/branding", json={"primary_color": "red"}).status_code == 422
    saved = w.send("PUT", "/settings/branding", json={"company_name": "ACME"}).json()
    assert saved["company_name"] == "ACME" and w.calls[-1][:2] == ("create", "ConfigMap")
    assert w.get("/settings/branding", role=None).json()["company_name"] == "ACME"
    w.send("PUT", "/settings/branding", json={"company_subtitle": "Ops"})
    assert w.calls[-1][:2] == ("patch", "ConfigMap")
    assert w.get("/settings/branding").json()["company_name"] == "ACME"
    assert w.get("/user-preferences", role=None).status_code == 401
    assert w.get("/user-preferences").json() == {}
    saved = w.send("PUT", "/user-preferences", role="viewer", json={"tab_order": ["volumes", "servers"]})
    assert saved.json() == {"status": "saved", "username": "viewer"}
    assert w.get("/user-preferences").json() == {"tab_order": ["volumes", "servers"]}
    assert w.get("/user-preferences", role="operator").json() == {}


@functools.cache
def _empty_world() -> World:
    return World([])


def _write_routes() -> list[tuple[str, str]]:
    paths = _empty_world().client.get("/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops if method not in ("get", "head")]


@pytest.mark.parametrize(("method", "path"), _write_routes())
def test_every_write_route_refuses_anonymous_and_viewers(method: str, path: str) -> None:
    w = _empty_world()
    concrete = path.replace("{", "").replace("}", "")
    assert w.send(method, concrete, role=None, json={}).status_code == 401
    viewer = w.send(method, concrete, role="viewer", json={}).status_code
    assert viewer == (200 if path == "/user-preferences" else 403)  # one's own preferences: any role


def test_openapi_document_builds() -> None:
    spec = World([]).client.get("/openapi.json").json()
    assert "/drift/events/{event_id}" in spec["paths"]
    listed = spec["paths"]["/drift/events"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/DriftEventPage"}  # no stray "type": "string" beside it
    one = spec["paths"]["/drift/events/{event_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DriftEventDetail"}
    assert one["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
