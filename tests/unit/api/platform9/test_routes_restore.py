"""Restore routes: plan = RestoreJob execute false, execute = approval, REPLACE guarded."""

from __future__ import annotations

from .conftest import World
from .data import credential, inventory_cms, restore_job

PLAN = {"project_id": "proj-a", "vm_id": "vm-1", "restore_point_id": "snap-1", "ip_strategy": "TRY_SAME_IPS"}


def _world(*jobs: dict) -> World:
    return World([credential(), *inventory_cms(), *jobs])


def test_config() -> None:
    assert _world().get("/restore/config").json() == {"enabled": True, "dry_run": False, "cleanup_volumes": False}


def test_plan_creates_a_restorejob_as_the_caller() -> None:
    w = _world()
    assert w.send("POST", "/restore/plan", role="viewer", json=PLAN).status_code == 403
    got = w.send("POST", "/restore/plan", role="operator", json=PLAN)
    assert got.status_code == 201
    body = got.json()
    assert body["status"] == "PLANNING" and body["job_id"].startswith("restore-web-01-")
    _, kind, created, who = w.calls[-1]
    assert (kind, who) == ("RestoreJob", "operator")
    assert created["spec"]["credentialsRef"] == {"kind": "CloudCredential", "name": "os"}
    assert created["spec"]["execute"] is False and created["spec"]["ipStrategy"] == "TRY_SAME_IPS"
    assert w.get(f"/restore/jobs/{body['job_id']}").json()["vm_id"] == "vm-1"


def test_replace_needs_admin_and_the_exact_confirmation() -> None:
    w = _world()
    replace = {**PLAN, "mode": "REPLACE", "confirm_destructive": "DELETE AND RESTORE web-01"}
    assert w.send("POST", "/restore/plan", role="operator", json=replace).status_code == 403
    wrong = w.send("POST", "/restore/plan", json={**replace, "confirm_destructive": "DELETE AND RESTORE web-02"})
    assert wrong.status_code == 422 and "DELETE AND RESTORE web-01" in wrong.json()["detail"]
    assert w.send("POST", "/restore/plan", json=replace).status_code == 201


def test_execute_approves_a_planned_job_only() -> None:
    w = _world(restore_job("planned"), restore_job("planning", plan=False), restore_job("replace", mode="REPLACE"))
    got = w.send("POST", "/restore/execute", role="operator", json={"plan_id": "planned"})
    assert got.status_code == 202 and got.json()["status"] == "PENDING"
    assert w.calls[-1][3] == {"spec": {"execute": True}}
    again = w.send("POST", "/restore/execute", role="operator", json={"plan_id": "planned"})
    assert again.status_code == 409
    assert w.send("POST", "/restore/execute", role="operator", json={"plan_id": "planning"}).status_code == 409
    assert w.send("POST", "/restore/execute", role="operator", json={"plan_id": "nope"}).status_code == 404
    assert w.send("POST", "/restore/execute", role="operator", json={"plan_id": "replace"}).status_code == 403
    assert (
        w.send("POST", "/restore/execute", json={"plan_id": "replace", "confirm_destructive": "yes"}).status_code == 422
    )
    ok = w.send(
        "POST", "/restore/execute", json={"plan_id": "replace", "confirm_destructive": "DELETE AND RESTORE web-01"}
    )
    assert ok.status_code == 202


def test_list_cancel_retry_cleanup() -> None:
    failed_steps = [{"name": "CreatePorts", "state": "Failed", "message": "boom"}]
    w = _world(
        restore_job("done", execute=True, phase="Succeeded"),
        restore_job("failed", execute=True, phase="Failed", steps=failed_steps),
    )
    assert w.get("/restore/jobs").json()["total"] == 2
    assert w.get("/restore/jobs", params={"status": "failed"}).json()["jobs"][0]["id"] == "failed"
    assert w.send("POST", "/restore/cancel/done", role="operator").status_code == 409
    assert w.send("POST", "/restore/cancel/failed", role="operator").status_code == 409
    retry = w.send("POST", "/restore/jobs/failed/retry", json={"ip_strategy_override": "NEW_IPS"})
    assert retry.status_code == 202 and retry.json()["resumed_from_step"] == "CreatePorts"
    asked = w.calls[-1][3]["spec"]["retry"]
    assert asked["ipStrategy"] == "NEW_IPS" and asked["requestedAt"]
    assert w.send("POST", "/restore/jobs/done/retry", json={}).status_code == 409
    cleaned = w.send("POST", "/restore/jobs/failed/cleanup", json={"delete_volume": True})
    assert cleaned.status_code == 202
    assert w.calls[-1][3]["spec"]["cleanup"] == {"requestedAt": cleaned.json()["requested_at"], "deleteVolume": True}
    assert w.send("POST", "/restore/jobs/failed/cleanup-storage").status_code == 409
    assert w.send("POST", "/restore/jobs/done/cleanup-storage").status_code == 409  # NEW mode: no old volume
    storage = w.send("POST", "/restore/jobs/done/cleanup-storage", params={"delete_source_snapshot": "true"})
    assert storage.status_code == 202 and w.calls[-1][3]["spec"]["cleanupStorage"]["deleteSourceSnapshot"] is True
    assert w.get("/restore/snapshots", params={"tenant_name": "x"}).json()["total"] == 0


def test_restore_points_and_free_ips_come_from_plans() -> None:
    job = restore_job("planned")
    job["status"]["plan"]["restorePoints"] = [{"id": "snap-1", "name": "daily", "sizeGb": 20, "createdAt": "T"}]
    job["status"]["plan"]["networks"][0]["subnets"] = [
        {"subnetId": "sub-1", "cidr": "10.0.0.0/24", "availableIps": ["10.0.0.9"], "availableCount": 200}
    ]
    w = _world(job)
    points = w.get("/restore/vm/vm-1/restore-points", params={"project_id": "proj-a"}).json()
    assert points["restore_points"] == [{"id": "snap-1", "name": "daily", "size_gb": 20, "created_at": "T"}]
    free = w.get("/restore/networks/net-1/available-ips").json()
    assert free["subnets"][0]["available_ips"] == ["10.0.0.9"] and free["subnets"][0]["available_count"] == 200
    assert w.get("/restore/networks/net-9/available-ips").status_code == 404


def test_cancel_a_running_job() -> None:
    w = _world(restore_job("run", execute=True, phase="Running"))
    got = w.send("POST", "/restore/cancel/run", role="operator", json={"reason": "wrong VM"})
    assert got.status_code == 200 and w.calls[-1][3] == {"spec": {"cancel": True}}


def test_a_plan_the_restorejob_model_refuses_is_422_naming_the_field() -> None:
    w = _world()
    manual = {**PLAN, "ip_strategy": "MANUAL_IP", "manual_ips": {"net-1": "x"}}
    got = w.send("POST", "/restore/plan", role="operator", json=manual)
    assert got.status_code == 422 and got.json()["detail"].startswith("manual_ips.ip: ")
    assert not [call for call in w.calls if call[0] == "create"], "nothing is created"
