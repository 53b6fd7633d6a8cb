"""Restore views: RestoreJob -> pf9 job objects; plan request -> RestoreJob spec."""

from __future__ import annotations

from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import restore as views

from .data import restore_job


def test_status_from_phase_or_spec() -> None:
    assert views.job_status(restore_job(plan=False)) == "PLANNING"
    assert views.job_status(restore_job()) == "PLANNED"
    assert views.job_status(restore_job(execute=True)) == "PENDING"
    assert views.job_status(restore_job(execute=True, phase="Succeeded")) == "COMPLETED"
    assert views.job_status(restore_job(execute=True, phase="Running")) == "RUNNING"
    job = restore_job(execute=True)
    job["spec"]["cancel"] = True
    assert views.job_status(job) == "CANCELING"


def test_job_row() -> None:
    steps = [
        {
            "name": "CreateVolume",
            "state": "Succeeded",
            "attempts": 1,
            "startedAt": "2026-11-30T11:01:00Z",
            "finishedAt": "2026-11-30T11:02:00Z",
        },
        {
            "name": "CreatePorts",
            "state": "Failed",
            "attempts": 2,
            "startedAt": "2026-11-30T11:02:00Z",
            "finishedAt": "2026-11-30T11:03:00Z",
            "message": "IP 10.0.0.5 in use",
        },
    ]
    row = views.job_row(restore_job(execute=True, phase="Failed", steps=steps))
    assert (row["id"], row["status"], row["vm_name"], row["restore_point_id"]) == (
        "restore-web",
        "FAILED",
        "web-01",
        "snap-1",
    )
    assert row["started_at"] == "2026-11-30T11:01:00Z" and row["finished_at"] == "2026-11-30T11:03:00Z"
    assert row["error_message"] == "IP 10.0.0.5 in use"
    assert [s["status"] for s in row["steps"]] == ["COMPLETED", "FAILED"]
    assert row["plan_json"]["networks"][0]["planned_ips"] == ["10.0.0.5"]
    models.RestoreJob.model_validate(row)
    models.RestoreJob.model_validate(views.job_row(restore_job(plan=False)))


def test_plan_spec_and_name() -> None:
    spec = views.plan_spec(
        {
            "project_id": "p",
            "vm_id": "v",
            "restore_point_id": "s",
            "mode": "NEW",
            "new_vm_name": "n",
            "ip_strategy": "MANUAL_IP",
            "manual_ips": {"net-2": "10.0.0.9", "net-1": "10.0.0.8"},
        },
        "os",
    )
    assert spec == {
        "credentialsRef": {"kind": "CloudCredential", "name": "os"},
        "source": {"openstack": {"project": "p", "vmId": "v", "restorePointId": "s"}},
        "mode": "NEW",
        "ipStrategy": "MANUAL_IP",
        "execute": False,
        "newVmName": "n",
        "manualIps": [{"networkId": "net-1", "ip": "10.0.0.8"}, {"networkId": "net-2", "ip": "10.0.0.9"}],
    }
    replace = views.plan_spec(
        {
            "project_id": "p",
            "vm_id": "v",
            "restore_point_id": "s",
            "mode": "REPLACE",
            "new_vm_name": "ignored",
            "confirm_destructive": "DELETE AND RESTORE web",
        },
        "os",
    )
    assert "newVmName" not in replace and replace["confirm"] == "DELETE AND RESTORE web"
    assert views.job_name("Web_01.prod", "20261130", "ab12") == "restore-web-01-prod-20261130-ab12"
    assert views.job_name("!!!", "1", "2") == "restore-vm-1-2"
    assert views.confirmation_for("web-01") == "DELETE AND RESTORE web-01"
