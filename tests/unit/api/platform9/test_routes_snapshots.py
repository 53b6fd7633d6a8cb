"""Snapshot policy, assignment, run, run-now and SLA routes."""

from __future__ import annotations

from .conftest import World
from .data import SLA, inventory_cms, policy, targets_cm

TARGETS = [{"id": "vol-1", "name": "web-root", "tenant": "proj-a", "sizeGb": 20, "kind": "volume"}]


def _world() -> World:
    return World([policy(), targets_cm("daily", TARGETS), *inventory_cms()])


def test_policies_list_get_404() -> None:
    w = _world()
    body = w.get("/snapshot-policies").json()
    assert body["total"] == 1 and body["policies"][0]["id"] == "daily"
    assert w.get("/snapshot-policies/daily").json()["policies"] == ["daily_5"]
    assert w.get("/snapshot-policies/nope").status_code == 404


def test_create_update_delete_policy_need_snapshots_admin() -> None:
    w = _world()
    body = {"name": "weekly", "credential": "os", "policy_name": "weekly_4", "projects": ["proj-a"]}
    assert w.send("POST", "/snapshot-policies", role="operator", json=body).status_code == 403
    created = w.send("POST", "/snapshot-policies", role="admin", json=body)
    assert created.status_code == 201 and created.json()["policies"] == ["weekly_4"]
    spec = w.calls[-1][2]["spec"]
    assert spec == {
        "credentialsRef": {"kind": "CloudCredential", "name": "os"},
        "policyName": "weekly_4",
        "targets": {"openstack": {"projects": ["proj-a"]}},
    }
    assert w.send("POST", "/snapshot-policies", json={"name": "x", "policy_name": "daily_1"}).status_code == 422
    updated = w.send("PUT", "/snapshot-policies/weekly", json={"schedule": "0 3 * * *", "keep_last": 3}).json()
    assert updated["schedule"] == "0 3 * * *" and updated["policies"] == [] and updated["retention"]["keep_last"] == 3
    assert w.send("DELETE", "/snapshot-policies/weekly").status_code == 204
    assert w.get("/snapshot-policies/weekly").status_code == 404


def test_assignments() -> None:
    w = _world()
    rows = w.get("/snapshot-assignments").json()["assignments"]
    assert [(r["id"], r["explicit"]) for r in rows] == [("daily:vol-1", False), ("daily:vol-x", True)]
    assert w.get("/snapshot-assignments", params={"volume_id": "vol-1"}).json()["total"] == 1
    added = w.send("POST", "/snapshot-assignments", json={"policy_set_id": "daily", "volume_ids": ["vol-9"]})
    assert added.status_code == 201 and added.json()["assignments"][0]["volume_id"] == "vol-9"
    assert w.calls[-1][3] == {"spec": {"targets": {"openstack": {"volumeIds": ["vol-x", "vol-9"]}}}}
    selector = w.send("DELETE", "/snapshot-assignments/daily:vol-1")
    assert selector.status_code == 409 and "selector" in selector.json()["detail"]
    assert w.send("DELETE", "/snapshot-assignments/daily:vol-9").status_code == 204
    assert w.calls[-1][3] == {"spec": {"targets": {"openstack": {"volumeIds": ["vol-x"]}}}}


def test_runs() -> None:
    run = {"id": "r1", "trigger": "scheduled", "state": "Failed", "startedAt": "2026-11-30T00:00:00Z", "failed": 2}
    w = World([policy(lastRun=run, history=[run])])
    body = w.get("/snapshot-runs").json()
    assert body["total"] == 1 and body["runs"][0]["status"] == "failed"
    assert w.get("/snapshot-runs", params={"status": "completed"}).json()["total"] == 0


def test_run_now_202_then_409_then_status() -> None:
    w = _world()
    assert w.send("POST", "/snapshot/run-now", role="operator").status_code == 403
    first = w.send("POST", "/snapshot/run-now")
    assert first.status_code == 202
    assert first.json()["job_id"] == "daily" and first.json()["status"] == "pending"
    _, kind, name, patch, who = w.calls[-1]
    annotations = patch["metadata"]["annotations"]
    assert (kind, name, who, annotations["daytwo.io/requested-by"]) == (
        "SnapshotPolicy",
        "daily",
        "admin",
        "admin",
    )
    second = w.send("POST", "/snapshot/run-now")
    assert second.status_code == 409
    assert second.json()["detail"] == "An on-demand snapshot pipeline is already pending or running."
    status = w.get("/snapshot/run-now/status").json()
    assert (status["job_id"], status["status"], status["triggered_by"]) == ("daily", "pending", "admin")
    # the operator picks the request up: token echoed, nothing running -> free again
    token = annotations["daytwo.io/reconcile-requested-at"]
    handled = policy(lastHandledReconcileAt=token)
    handled["metadata"]["annotations"] = annotations
    w.store._watcher("SnapshotPolicy").apply({"type": "MODIFIED", "object": handled})
    assert w.send("POST", "/snapshot/run-now").status_code == 202


def test_run_now_refuses_a_running_policy_and_unknown_ones() -> None:
    w = World([policy(currentRun={"id": "r", "trigger": "scheduled", "state": "Running"})])
    assert w.send("POST", "/snapshot/run-now").status_code == 409
    assert w.send("POST", "/snapshot/run-now", params={"policy": "nope"}).status_code == 404
    assert World([]).send("POST", "/snapshot/run-now").status_code == 404


def test_compliance_dashboard_and_coverage() -> None:
    w = _world()
    report = w.get("/snapshot/compliance").json()
    assert report["total_volumes"] == sum(t["total"] for t in SLA["tenants"])
    assert report["policies"][0]["out_of_sla_total"] == SLA["outOfSlaTotal"]
    assert w.get("/snapshot/compliance", params={"tenant_id": "proj-b"}).json()["overall_compliance"] == 0.0
    board = w.get("/dashboard/snapshot-sla-compliance").json()
    assert board["overall_compliance"] == 50.0 and len(board["tenants"]) == 2
    risks = w.get("/dashboard/coverage-risks").json()
    assert risks["total_volumes"] == 3 and risks["total_at_risk"] == 2
    assert {v["volume_id"] for v in risks["volumes"]} == {"vol-2", "vol-3"}
    assert w.get("/snapshots").status_code == 501


def test_a_recreated_policy_is_not_blocked_by_the_old_request() -> None:
    w = _world()
    assert w.send("POST", "/snapshot/run-now").status_code == 202
    assert w.send("POST", "/snapshot/run-now").status_code == 409
    w.store._watcher("SnapshotPolicy").apply({"type": "DELETED", "object": w.store.get("SnapshotPolicy", "daily")})
    fresh = policy()
    fresh["metadata"]["uid"] = "uid-daily-2"
    w.store._watcher("SnapshotPolicy").apply({"type": "ADDED", "object": fresh})
    assert w.send("POST", "/snapshot/run-now").status_code == 202
    assert _world().send("POST", "/snapshot/run-now").status_code == 202  # another store: no shared state


def test_invalid_spec_is_refused_before_the_apiserver_with_the_crds_message() -> None:
    w = _world()
    calls = len(w.calls)
    bad = w.send("POST", "/snapshot-policies", json={"name": "x", "credential": "os", "policy_name": "daily_x"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "policyName must be <hourly|daily|weekly|monthly>_<keep>, e.g. daily_5"
    assert len(w.calls) == calls, "nothing was written"


def test_a_stored_policy_off_the_schema_is_a_clear_502() -> None:
    broken = policy()
    broken["spec"]["targets"]["openstack"]["volumeIds"] = "vol-x"
    answer = World([broken]).get("/snapshot-policies")
    assert answer.status_code == 502
    assert "spec.targets.openstack.volumeIds: Input should be a valid list" in answer.json()["detail"]
