"""pf9 snapshot management: SnapshotPolicy CRs (+ their ``<p>-targets`` ConfigMaps) -> policies,
assignments, runs, run-now status, compliance and the snapshot dashboards."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .common import iso, percent

__all__ = [
    "RECONCILE_ANNOTATION",
    "TARGETS_LABEL",
    "assignments",
    "busy_reason",
    "compliance_report",
    "coverage_risks",
    "manual_run",
    "policy_row",
    "run_now_status",
    "run_rows",
    "sla_dashboard",
    "targets_of",
]

RECONCILE_ANNOTATION = "daytwo.io/reconcile-requested-at"
TARGETS_LABEL = "daytwo.io/snapshot-policy"
#: The pf9 run-now pipeline's step keys for the operator's run steps.
STEP_KEYS = {
    "ResolveTargets": ("policy_assign", "Resolve Targets (policy assignment)"),
    "CreateSnapshots": ("auto_snapshots", "Auto Snapshots"),
    "Retention": ("retention", "Retention"),
    "Compliance": ("compliance", "SLA Compliance"),
}
_STEP_STATUS = {
    "Pending": "pending",
    "Running": "running",
    "Succeeded": "completed",
    "Failed": "failed",
    "Skipped": "completed",
    "Canceled": "failed",
}
_RUN_STATUS = {
    "Pending": "pending",
    "Running": "running",
    "Succeeded": "completed",
    "PartiallyFailed": "failed",
    "Failed": "failed",
}


def _name(obj: Mapping[str, Any]) -> str:
    return str(obj["metadata"]["name"])


def policy_row(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A SnapshotPolicy as a pf9 policy set (``id`` = the CR name)."""
    spec = policy.get("spec") or {}
    status = policy.get("status") or {}
    retention = spec.get("retention") or {}
    ready: dict[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    targets = spec.get("targets") or {}
    return {
        "id": _name(policy),
        "name": _name(policy),
        "policies": [spec["policyName"]] if spec.get("policyName") else [],
        "schedule": spec.get("schedule"),
        "time_zone": spec.get("timeZone", "UTC"),
        "retention": {"keep_last": retention.get("keepLast"), "max_age": retention.get("maxAge")},
        "sla_days": int(spec.get("slaDays", 2)),
        "suspended": bool(spec.get("suspend", False)),
        "credential": (spec.get("credentialsRef") or {}).get("name"),
        "target_type": "openstack" if "openstack" in targets else "proxmox" if "proxmox" in targets else None,
        "targets": targets.get("openstack") or targets.get("proxmox") or {},
        "matched_targets": status.get("matchedTargets"),
        "next_run_at": iso(status.get("nextScheduleTime")),
        "last_run_at": iso(status.get("lastScheduleTime")),
        "last_success_at": iso(status.get("lastSuccessfulTime")),
        "ready": ready.get("status") == "True",
        "reason": ready.get("reason"),
        "message": ready.get("message"),
    }


def targets_of(configmaps: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Policy name -> the targets its last run resolved (from the ``<p>-targets`` ConfigMaps)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for cm in configmaps:
        label = (cm["metadata"].get("labels") or {}).get(TARGETS_LABEL)
        if not label:
            continue
        owners = [o for o in cm["metadata"].get("ownerReferences") or [] if o.get("kind") == "SnapshotPolicy"]
        policy = str(owners[0]["name"]) if owners else label  # the label is cut at 63 characters
        try:
            loaded = json.loads((cm.get("data") or {}).get("targets.json") or "[]")
        except ValueError:
            loaded = []
        found[policy] = [t for t in loaded if isinstance(t, dict)] if isinstance(loaded, list) else []
    return found


def assignments(
    policies: Sequence[Mapping[str, Any]], targets: Mapping[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """pf9 volume assignments: one per (policy, resolved target); ``explicit`` when listed in volumeIds."""
    rows = []
    for policy in policies:
        name = _name(policy)
        spec = policy.get("spec") or {}
        explicit = set(((spec.get("targets") or {}).get("openstack") or {}).get("volumeIds") or ())
        label = spec.get("policyName") or spec.get("schedule")
        seen = set()
        for target in targets.get(name, []):
            target_id = str(target.get("id", ""))
            seen.add(target_id)
            rows.append(_assignment(name, label, target_id, target, target_id in explicit))
        for volume_id in sorted(explicit - seen):
            rows.append(_assignment(name, label, volume_id, {}, True))
    return rows


def _assignment(policy: str, label: Any, target_id: str, target: Mapping[str, Any], explicit: bool) -> dict[str, Any]:
    return {
        "id": f"{policy}:{target_id}",
        "volume_id": target_id,
        "volume_name": target.get("name"),
        "tenant_name": target.get("tenant"),
        "size_gb": target.get("sizeGb"),
        "policy_set_id": policy,
        "policy_name": label,
        "explicit": explicit,
    }


def _run(policy: str, run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(run.get("id", "")),
        "policy_set_id": policy,
        "trigger": run.get("trigger"),
        "status": _RUN_STATUS.get(str(run.get("state", "Pending")), "pending"),
        "state": run.get("state", "Pending"),
        "scheduled_at": iso(run.get("scheduledAt")),
        "started_at": iso(run.get("startedAt")),
        "finished_at": iso(run.get("finishedAt")),
        "snapshots_created": int(run.get("created", 0)),
        "snapshots_deleted": int(run.get("deleted", 0)),
        "failed": int(run.get("failed", 0)),
        "failures": [
            {"target": f.get("target"), "name": f.get("name"), "reason": f.get("reason"), "message": f.get("message")}
            for f in run.get("failures") or []
        ],
    }


def run_rows(policies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every run (current, last, history) of every policy, newest first, each once."""
    rows: dict[str, dict[str, Any]] = {}
    for policy in policies:
        status = policy.get("status") or {}
        runs = [status.get("currentRun"), status.get("lastRun"), *(status.get("history") or [])]
        for run in runs:
            if isinstance(run, dict) and run.get("id") and run["id"] not in rows:
                rows[run["id"]] = _run(_name(policy), run)
    return sorted(rows.values(), key=lambda r: (r["started_at"] or r["scheduled_at"] or "", r["id"]), reverse=True)


def busy_reason(policy: Mapping[str, Any]) -> str | None:
    """Why a run-now must wait: a request not yet picked up, or a run in progress; None when free."""
    annotations = policy["metadata"].get("annotations") or {}
    status = policy.get("status") or {}
    token = annotations.get(RECONCILE_ANNOTATION)
    if token is not None and token != status.get("lastHandledReconcileAt"):
        return "pending"
    current = status.get("currentRun")
    if isinstance(current, dict) and current.get("state") in (None, "Pending", "Running"):
        return "running"
    return None


def manual_run(policy: Mapping[str, Any], token: str) -> dict[str, Any] | None:
    """The run a run-now request ``token`` started (its id ends ``-manual-<sha256(token)[:6]>``), if any."""
    suffix = f"-manual-{hashlib.sha256(token.encode()).hexdigest()[:6]}"
    status = policy.get("status") or {}
    for run in (status.get("currentRun"), status.get("lastRun"), *(status.get("history") or [])):
        if isinstance(run, dict) and str(run.get("id", "")).endswith(suffix):
            return run
    return None


def run_now_status(policies: Sequence[Mapping[str, Any]], token: str | None) -> dict[str, Any]:
    """The on-demand pipeline's status: the policies carrying ``token`` (the newest run-now), aggregated.

    ``job_id`` is the policy name when one policy was asked, else the request token.
    """
    asked = [
        p for p in policies if token and (p["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION) == token
    ]
    if not asked or token is None:
        return {
            "job_id": None,
            "status": "idle",
            "triggered_by": None,
            "started_at": None,
            "finished_at": None,
            "steps": [],
            "policies": [],
        }
    states: list[str] = []
    runs: list[dict[str, Any]] = []
    for policy in asked:
        if busy_reason(policy) == "pending":
            states.append("pending")
            continue
        run = manual_run(policy, token)
        if run is None:
            states.append("pending")
            continue
        runs.append(run)
        states.append(_RUN_STATUS.get(str(run.get("state", "Pending")), "pending"))
    overall = next((s for s in ("failed", "running", "pending") if s in states), "completed")
    if overall == "failed" and ("running" in states or "pending" in states):
        overall = "running"
    steps = []
    for name, (key, label) in STEP_KEYS.items():
        step_states = [
            _STEP_STATUS.get(str(s.get("state")), "pending")
            for run in runs
            for s in run.get("steps") or []
            if s.get("name") == name
        ]
        if len(runs) < len(asked):
            step_states.append("pending")
        step = next((s for s in ("failed", "running", "pending") if s in step_states), "completed")
        steps.append({"key": key, "label": label, "status": step if step_states else "pending"})
    started = [moment for r in runs if (moment := iso(r.get("startedAt")))]
    finished = [moment for r in runs if (moment := iso(r.get("finishedAt")))]
    names = [_name(p) for p in asked]
    return {
        "job_id": names[0] if len(names) == 1 else token,
        "status": overall,
        "triggered_by": (asked[0]["metadata"].get("annotations") or {}).get("daytwo.io/requested-by"),
        "started_at": min(started) if started else None,
        "finished_at": max(finished) if overall in ("completed", "failed") and finished else None,
        "steps": steps,
        "policies": names,
    }


def _tenants(policies: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    tenants: dict[str, dict[str, Any]] = {}
    for policy in policies:
        sla = (policy.get("status") or {}).get("sla") or {}
        for t in sla.get("tenants") or []:
            row = tenants.setdefault(
                str(t.get("tenant")), {"total": 0, "compliant": 0, "warning": 0, "critical": 0, "out": []}
            )
            for key in ("total", "compliant", "warning", "critical"):
                row[key] += int(t.get(key, 0))
        for out in sla.get("outOfSla") or []:
            tenant = str(out.get("tenant") or "")
            row = tenants.setdefault(tenant, {"total": 0, "compliant": 0, "warning": 0, "critical": 0, "out": []})
            row["out"].append((policy, out))
    return tenants


def _warning(policy: Mapping[str, Any], out: Mapping[str, Any], days: int) -> dict[str, Any]:
    spec = policy.get("spec") or {}
    last = iso(out.get("lastSnapshotAt"))
    sla_days = int(spec.get("slaDays", days))
    return {
        "volume_id": str(out.get("id", "")),
        "volume_name": out.get("name"),
        "policy": spec.get("policyName") or _name(policy),
        "severity": out.get("severity", "critical"),
        "last_snapshot": last,
        "message": f"No snapshot in last {sla_days} days" if last else "No snapshot yet",
    }


def sla_dashboard(policies: Sequence[Mapping[str, Any]], days: int) -> dict[str, Any]:
    """/dashboard/snapshot-sla-compliance from every policy's ``status.sla`` (counts summed per tenant)."""
    tenants = _tenants(policies)
    rows = []
    for tenant, counts in sorted(tenants.items()):
        rows.append(
            {
                "tenant_id": tenant,
                "tenant_name": tenant,
                "domain_name": None,
                "total_volumes": counts["total"],
                "compliant": counts["compliant"],
                "warning": counts["warning"],
                "critical": counts["critical"],
                "compliance_percentage": percent(counts["compliant"], counts["total"]),
                "warnings": [_warning(p, out, days) for p, out in counts["out"]],
            }
        )
    total = sum(c["total"] for c in tenants.values())
    compliant = sum(c["compliant"] for c in tenants.values())
    return {"overall_compliance": percent(compliant, total), "tenants": rows}


def compliance_report(policies: Sequence[Mapping[str, Any]], days: int, tenant: str | None = None) -> dict[str, Any]:
    """/snapshot/compliance: per-policy and per-tenant SLA exactly as the policies' status reports it.

    The operator evaluates each policy against its own ``slaDays``; ``days`` is echoed (``sla_days``
    per policy says which window each number uses).
    """
    board = sla_dashboard(policies, days)
    rows = [t for t in board["tenants"] if not tenant or t["tenant_id"] == tenant]
    per_policy = []
    for policy in policies:
        status = policy.get("status") or {}
        sla = status.get("sla") or {}
        counted = [t for t in sla.get("tenants") or [] if not tenant or t.get("tenant") == tenant]
        total = sum(int(t.get("total", 0)) for t in counted)
        good = sum(int(t.get("compliant", 0)) for t in counted)
        per_policy.append(
            {
                "policy_set_id": _name(policy),
                "policy": (policy.get("spec") or {}).get("policyName") or _name(policy),
                "sla_days": int((policy.get("spec") or {}).get("slaDays", 2)),
                "evaluated_at": iso(sla.get("evaluatedAt")),
                "total_volumes": total,
                "compliant": good,
                "compliance_percentage": percent(good, total),
                "out_of_sla_total": int(sla.get("outOfSlaTotal", 0)),
            }
        )
    total = sum(t["total_volumes"] for t in rows)
    good = sum(t["compliant"] for t in rows)
    return {
        "sla_days": days,
        "overall_compliance": percent(good, total),
        "total_volumes": total,
        "compliant": good,
        "warning": sum(t["warning"] for t in rows),
        "critical": sum(t["critical"] for t in rows),
        "tenants": rows,
        "policies": per_policy,
    }


def _risk(volume: Mapping[str, Any]) -> int:
    score = 5
    if volume.get("attached_to"):
        score += 2
    if volume.get("bootable"):
        score += 1
    size = int(volume.get("size_gb") or 0)
    score += 2 if size >= 500 else 1 if size >= 100 else 0
    return min(score, 10)


def coverage_risks(
    volumes: Sequence[Mapping[str, Any]], targets: Mapping[str, list[dict[str, Any]]], policy_name: str | None
) -> dict[str, Any]:
    """/dashboard/coverage-risks: inventory volumes that no policy's resolved targets cover, riskiest first."""
    covered = {str(t.get("id")) for listed in targets.values() for t in listed}
    at_risk = [v for v in volumes if v["volume_id"] not in covered]
    advice = (
        f"Add it to SnapshotPolicy {policy_name} (targets.openstack.volumeIds) or set volume metadata "
        "auto_snapshot=true"
        if policy_name
        else "Create a SnapshotPolicy covering it, e.g. policyName daily_5"
    )
    rows = [
        {
            "volume_id": v["volume_id"],
            "volume_name": v["volume_name"],
            "size_gb": v["size_gb"],
            "tenant_name": v.get("tenant_name"),
            "risk_score": _risk(v),
            "recommendation": advice,
        }
        for v in at_risk
    ]
    rows.sort(key=lambda r: (-r["risk_score"], -r["size_gb"], r["volume_id"]))
    return {
        "total_at_risk": len(rows),
        "total_volumes": len(volumes),
        "risk_percentage": round(len(rows) * 100.0 / len(volumes), 1) if volumes else 0.0,
        "volumes": rows,
    }
