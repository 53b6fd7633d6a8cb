"""Snapshot views: policy sets, assignments, runs, run-now status, SLA and coverage (hand-computed)."""

from __future__ import annotations

import hashlib
from typing import Any

from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import snapshots as views
from daytwo.api.views.snapshotpolicy import Policy, parse_policy

from .data import SLA, targets_cm
from .data import policy as policy_object


def policy(annotations: dict[str, str] | None = None, **status: Any) -> Policy:
    """The daily policy of ``data`` as the views take it (typed), with these annotations and status fields."""
    obj = policy_object(**status)
    obj["metadata"]["annotations"] = annotations or {}
    return parse_policy(obj)


def _run(run_id: str, state: str, **extra: object) -> dict[str, Any]:
    return {"id": run_id, "trigger": "scheduled", "state": state, "scheduledAt": "2026-11-30T00:00:00Z", **extra}


def test_policy_row() -> None:
    row = views.policy_row(policy(matchedTargets=6, nextScheduleTime="2026-12-01T00:00:00Z"))
    assert row["id"] == "daily" and row["policies"] == ["daily_5"] and row["sla_days"] == 2
    assert row["target_type"] == "openstack" and row["matched_targets"] == 6 and row["ready"] is True
    assert row["next_run_at"] == "2026-12-01T00:00:00Z"
    models.PolicySet.model_validate(row)


def test_targets_of_uses_the_owner_name_not_the_cut_label() -> None:
    cm = targets_cm("daily", [{"id": "vol-1", "name": "web-root", "tenant": "proj-a", "sizeGb": 20, "kind": "volume"}])
    cm["metadata"]["labels"]["daytwo.io/snapshot-policy"] = "dai"
    assert views.targets_of([cm]) == {
        "daily": [{"id": "vol-1", "name": "web-root", "tenant": "proj-a", "sizeGb": 20, "kind": "volume"}]
    }
    cm["data"]["targets.json"] = "garbage"
    assert views.targets_of([cm]) == {"daily": []}


def test_assignments_resolved_and_explicit() -> None:
    targets = {"daily": [{"id": "vol-1", "name": "web-root", "tenant": "proj-a", "sizeGb": 20}]}
    rows = views.assignments([policy()], targets)
    assert [(r["id"], r["explicit"]) for r in rows] == [("daily:vol-1", False), ("daily:vol-x", True)]
    assert rows[0]["policy_name"] == "daily_5"
    models.AssignmentList.model_validate({"assignments": rows, "total": 2})


def test_runs_dedupe_and_newest_first() -> None:
    last = _run("r2", "Succeeded", startedAt="2026-11-30T00:00:05Z", created=3)
    older = _run(
        "r1",
        "PartiallyFailed",
        startedAt="2026-11-29T00:00:05Z",
        failed=1,
        failures=[{"target": "vol-3", "reason": "Conflict", "message": "busy"}],
    )
    rows = views.run_rows([policy(lastRun=last, history=[last, older])])
    assert [(r["id"], r["status"]) for r in rows] == [("r2", "completed"), ("r1", "failed")]
    assert rows[0]["snapshots_created"] == 3 and rows[1]["failures"][0]["reason"] == "Conflict"
    models.RunList.model_validate({"runs": rows, "total": 2})


def test_busy_reason() -> None:
    free = policy()
    assert views.busy_reason(free) is None
    pending = policy({views.RECONCILE_ANNOTATION: "t1"})
    assert views.busy_reason(pending) == "pending"
    handled = policy({views.RECONCILE_ANNOTATION: "t1"}, lastHandledReconcileAt="t1")
    assert views.busy_reason(handled) is None
    assert views.busy_reason(policy(currentRun=_run("r", "Running"))) == "running"


def _suffix(token: str) -> str:
    return "-manual-" + hashlib.sha256(token.encode()).hexdigest()[:6]


def test_run_now_status_idle_pending_running_completed() -> None:
    assert views.run_now_status([policy()], None)["status"] == "idle"
    annotations = {views.RECONCILE_ANNOTATION: "tok", "daytwo.io/requested-by": "admin"}
    asked = policy(annotations)
    got = views.run_now_status([asked], "tok")
    assert (got["status"], got["job_id"], got["triggered_by"]) == ("pending", "daily", "admin")
    steps = [
        {"name": "ResolveTargets", "state": "Succeeded"},
        {"name": "CreateSnapshots", "state": "Running"},
        {"name": "Retention", "state": "Pending"},
        {"name": "Compliance", "state": "Pending"},
    ]
    running = policy(
        annotations,
        lastHandledReconcileAt="tok",
        currentRun=_run("daily-x" + _suffix("tok"), "Running", startedAt="2026-11-30T10:00:00Z", steps=steps),
    )
    got = views.run_now_status([running], "tok")
    assert got["status"] == "running" and got["started_at"] == "2026-11-30T10:00:00Z" and got["finished_at"] is None
    assert [s["status"] for s in got["steps"]] == ["completed", "running", "pending", "pending"]
    done = policy(
        annotations,
        lastHandledReconcileAt="tok",
        lastRun=_run(
            "daily-x" + _suffix("tok"),
            "Succeeded",
            startedAt="2026-11-30T10:00:00Z",
            finishedAt="2026-11-30T10:05:00Z",
            steps=[{**s, "state": "Succeeded"} for s in steps],
        ),
    )
    got = views.run_now_status([done], "tok")
    assert (got["status"], got["finished_at"]) == ("completed", "2026-11-30T10:05:00Z")
    models.RunNowStatus.model_validate(got)


def test_sla_dashboard_sums_tenants_and_lists_warnings() -> None:
    board = views.sla_dashboard([policy()], 2)
    assert board["overall_compliance"] == 50.0  # 3 of 6
    a, b = board["tenants"]
    assert (a["tenant_id"], a["compliance_percentage"], a["warning"]) == ("proj-a", 75.0, 1)
    assert a["warnings"] == [
        {
            "volume_id": "vol-3",
            "volume_name": "db",
            "policy": "daily_5",
            "severity": "warning",
            "last_snapshot": "2026-11-27T00:00:00Z",
            "message": "No snapshot in last 2 days",
        }
    ]
    assert (b["critical"], len(b["warnings"]), b["warnings"][0]["message"]) == (2, 2, "No snapshot yet")
    models.SlaDashboard.model_validate(board)


def test_compliance_report_equals_status_and_filters_tenant() -> None:
    report = views.compliance_report([policy()], 2)
    assert (report["total_volumes"], report["compliant"], report["warning"], report["critical"]) == (6, 3, 1, 2)
    assert report["policies"][0]["out_of_sla_total"] == SLA["outOfSlaTotal"]
    assert report["policies"][0]["evaluated_at"] == "2026-11-30T00:05:00Z"
    only_a = views.compliance_report([policy()], 2, "proj-a")
    assert (only_a["total_volumes"], only_a["overall_compliance"]) == (4, 75.0)
    assert only_a["policies"][0]["total_volumes"] == 4
    models.Compliance.model_validate(report)
    assert views.compliance_report([], 2)["overall_compliance"] == 100.0


def test_coverage_risks() -> None:
    volumes = [
        {
            "volume_id": "vol-1",
            "volume_name": "web",
            "size_gb": 20,
            "tenant_name": "a",
            "attached_to": ["vm"],
            "bootable": True,
        },
        {
            "volume_id": "vol-2",
            "volume_name": "big",
            "size_gb": 500,
            "tenant_name": "a",
            "attached_to": [],
            "bootable": False,
        },
        {
            "volume_id": "vol-3",
            "volume_name": "db",
            "size_gb": 100,
            "tenant_name": "b",
            "attached_to": ["vm"],
            "bootable": False,
        },
    ]
    got = views.coverage_risks(volumes, {"daily": [{"id": "vol-1"}]}, "daily")
    assert got["total_at_risk"] == 2 and got["total_volumes"] == 3 and got["risk_percentage"] == 66.7
    # vol-3: 5 + 2 (attached) + 1 (>=100) = 8; vol-2: 5 + 2 (>=500) = 7
    assert [(v["volume_id"], v["risk_score"]) for v in got["volumes"]] == [("vol-3", 8), ("vol-2", 7)]
    assert "SnapshotPolicy daily" in got["volumes"][0]["recommendation"]
    models.CoverageRisks.model_validate(got)
    assert views.coverage_risks([], {}, None)["risk_percentage"] == 0.0
