"""/drift/* routes over a store filled from dicts; writes go through the (fake) caller's writer."""

from __future__ import annotations

from .conftest import World
from .data import event, rule


def _world() -> World:
    events = [
        event(
            f"ev-{i:03d}",
            severity=("critical", "warning", "info")[i % 3],
            detected=f"2026-11-30T{i % 24:02d}:00:00Z",
            acked=i % 2 == 0,
        )
        for i in range(120)
    ]
    return World([rule("status-rule"), *events])


def test_list_paginates_filters_and_sorts() -> None:
    w = _world()
    body = w.get("/drift/events", params={"page": 2, "page_size": 50}).json()
    assert (body["total"], body["page"], body["page_size"], len(body["events"])) == (120, 2, 50, 50)
    last = w.get("/drift/events", params={"page": 3, "page_size": 50}).json()["events"]
    assert len(last) == 20
    crit = w.get("/drift/events", params={"severity": "critical", "acknowledged": "false"}).json()
    assert crit["total"] == 20 and all(e["severity"] == "critical" and not e["acknowledged"] for e in crit["events"])
    first = w.get("/drift/events", params={"sort_by": "detected_at", "sort_dir": "asc"}).json()["events"][0]
    assert first["detected_at"] == "2026-11-30T00:00:00Z"
    assert w.get("/drift/events", params={"severity": "bad"}).status_code == 422


def test_list_reflects_store_changes() -> None:
    w = _world()
    assert w.get("/drift/events").json()["total"] == 120
    w.store._watcher("DriftEvent").apply({"type": "ADDED", "object": event("zz-new")})
    assert w.get("/drift/events").json()["total"] == 121


def test_get_one_and_404() -> None:
    w = _world()
    got = w.get("/drift/events/ev-001").json()
    assert got["id"] == "ev-001" and got["rule_description"].startswith("Detects") and got["rule_id"] == "status-rule"
    missing = w.get("/drift/events/nope")
    assert missing.status_code == 404 and missing.json()["detail"] == "Drift event 'nope' not found"


def test_auth_and_permissions() -> None:
    w = _world()
    assert w.get("/drift/events", role=None).status_code == 401
    assert w.send("PUT", "/drift/events/ev-001/acknowledge", role="viewer").status_code == 403
    assert w.send("PUT", "/drift/rules/status-rule", role="viewer", json={"enabled": False}).status_code == 403


def test_acknowledge_patches_as_the_caller() -> None:
    w = _world()
    got = w.send("PUT", "/drift/events/ev-001/acknowledge", role="operator")
    assert got.status_code == 200
    body = got.json()
    assert body["acknowledged"] and body["acknowledged_by"] == "operator"
    kind, name, patch, who = w.calls[-1][1:]
    assert (kind, name, who) == ("DriftEvent", "ev-001", "operator")
    assert patch["spec"]["acknowledgement"]["by"] == "operator"
    assert w.get("/drift/events/ev-001").json()["acknowledged"] is True
    listed = w.get("/drift/events", params={"search": "web", "acknowledged": "true", "page_size": 1000}).json()
    assert "ev-001" in {e["id"] for e in listed["events"]} and listed["total"] == 61
    assert w.send("PUT", "/drift/events/nope/acknowledge", role="operator").status_code == 404


def test_bulk_acknowledge_skips_acknowledged_and_reports_unknown() -> None:
    w = _world()
    got = w.send(
        "PUT",
        "/drift/events/bulk-acknowledge",
        role="operator",
        json={"event_ids": ["ev-001", "ev-002", "ev-003", "missing"]},
    ).json()
    assert got["acknowledged_count"] == 3 and got["not_found"] == ["missing"]
    assert [c[2] for c in w.calls] == ["ev-001", "ev-003"]  # ev-002 was already acknowledged
    assert w.send("PUT", "/drift/events/bulk-acknowledge", role="operator", json={"event_ids": []}).status_code == 422


def test_summary_and_rules() -> None:
    w = _world()
    summary = w.get("/drift/summary").json()
    assert summary["total_events"] == 120 and summary["unacknowledged"] == 60
    assert summary["by_severity"] == {"critical": 40, "warning": 40, "info": 40}
    rules = w.get("/drift/rules").json()
    assert rules["total"] == 1 and rules["rules"][0]["id"] == "status-rule"
    assert w.get("/drift/rules/nope").status_code == 404
    updated = w.send("PUT", "/drift/rules/status-rule", role="operator", json={"enabled": False}).json()
    assert updated["enabled"] is False and updated["updated_by"] == "operator"
    assert w.get("/drift/rules/status-rule").json()["enabled"] is False
