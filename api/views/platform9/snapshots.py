"""pf9 snapshot management: SnapshotPolicy CRs (+ their ``<p>-targets`` ConfigMaps) -> policies,
assignments, runs, run-now status, compliance and the snapshot dashboards."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from daytwo.crds.base import RECONCILE_ANNOTATION
from daytwo.crds.snapshotpolicy import OutOfSla, SlaStatus, SnapshotRun
from daytwo.operator.shared.snapshots import TARGETS_LABEL

from ..snapshotpolicy import Policy, stamp
from .common import percent

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


def policy_row(policy: Policy) -> dict[str, Any]:
    """A SnapshotPolicy as a pf9 policy set (``id`` = the CR name)."""
    spec, status = policy.spec, policy.status
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    selectors = spec.targets.openstack or spec.targets.proxmox
    return {
        "id": policy.name,
        "name": policy.name,
        "policies": [spec.policy_name] if spec.policy_name else [],
        "schedule": spec.schedule,
        "time_zone": spec.time_zone,
        "retention": {
            "keep_last": spec.retention.keep_last if spec.retention else None,
            "max_age": spec.retention.max_age if spec.retention else None,
        },
        "sla_days": spec.sla_days,
        "suspended": spec.suspend,
        "credential": spec.credentials_ref.name,
        "target_type": "openstack" if spec.targets.openstack else "proxmox" if spec.targets.proxmox else None,
        "targets": selectors.to_k8s() if selectors else {},
        "matched_targets": status.matched_targets,
        "next_run_at": stamp(status.next_schedule_time),
        "last_run_at": stamp(status.last_schedule_time),
        "last_success_at": stamp(status.last_successful_time),
        "ready": ready is not None and ready.status == "True",
        "reason": ready.reason if ready else None,
        "message": ready.message if ready else None,
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


def assignments(policies: Sequence[Policy], targets: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """pf9 volume assignments: one per (policy, resolved target); ``explicit`` when listed in volumeIds."""
    rows = []
    for policy in policies:
        explicit = set((policy.openstack.volume_ids if policy.openstack else None) or ())
        label = policy.spec.policy_name or policy.spec.schedule
        seen = set()
        for target in targets.get(policy.name, []):
            target_id = str(target.get("id", ""))
            seen.add(target_id)
            rows.append(_assignment(policy.name, label, target_id, target, target_id in explicit))
        for volume_id in sorted(explicit - seen):
            rows.append(_assignment(policy.name, label, volume_id, {}, True))
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


def _run(policy: str, run: SnapshotRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "policy_set_id": policy,
        "trigger": run.trigger,
        "status": _RUN_STATUS.get(run.state, "pending"),
        "state": run.state,
        "scheduled_at": stamp(run.scheduled_at),
        "started_at": stamp(run.started_at),
        "finished_at": stamp(run.finished_at),
        "snapshots_created": run.created,
        "snapshots_deleted": run.deleted,
        "failed": run.failed,
        "failures": [
            {"target": f.target, "name": f.name, "reason": f.reason, "message": f.message} for f in run.failures or []
        ],
    }


def run_rows(policies: Sequence[Policy]) -> list[dict[str, Any]]:
    """Every run (current, last, history) of every policy, newest first, each once."""
    rows: dict[str, dict[str, Any]] = {}
    for policy in policies:
        for run in policy.runs:
            rows.setdefault(run.id, _run(policy.name, run))
    return sorted(rows.values(), key=lambda r: (r["started_at"] or r["scheduled_at"] or "", r["id"]), reverse=True)


def busy_reason(policy: Policy) -> str | None:
    """Why a run-now must wait: a request not yet picked up, or a run in progress; None when free."""
    token = policy.annotations.get(RECONCILE_ANNOTATION)
    if token is not None and token != policy.status.last_handled_reconcile_at:
        return "pending"
    current = policy.status.current_run
    if current is not None and current.state in ("Pending", "Running"):
        return "running"
    return None


def manual_run(policy: Policy, token: str) -> SnapshotRun | None:
    """The run a run-now request ``token`` started (its id ends ``-manual-<sha256(token)[:6]>``), if any."""
    suffix = f"-manual-{hashlib.sha256(token.encode()).hexdigest()[:6]}"
    return next((run for run in policy.runs if run.id.endswith(suffix)), None)


def run_now_status(policies: Sequence[Policy], token: str | None) -> dict[str, Any]:
    """The on-demand pipeline's status: the policies carrying ``token`` (the newest run-now), aggregated.

    ``job_id`` is the policy name when one policy was asked, else the request token.
    """
    asked = [p for p in policies if token and p.annotations.get(RECONCILE_ANNOTATION) == token]
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
    runs: list[SnapshotRun] = []
    for policy in asked:
        run = None if busy_reason(policy) == "pending" else manual_run(policy, token)
        if run is None:
            states.append("pending")
            continue
        runs.append(run)
        states.append(_RUN_STATUS.get(run.state, "pending"))
    overall = next((s for s in ("failed", "running", "pending") if s in states), "completed")
    if overall == "failed" and ("running" in states or "pending" in states):
        overall = "running"
    steps = []
    for name, (key, label) in STEP_KEYS.items():
        step_states = [_STEP_STATUS.get(s.state, "pending") for run in runs for s in run.steps or [] if s.name == name]
        if len(runs) < len(asked):
            step_states.append("pending")
        step = next((s for s in ("failed", "running", "pending") if s in step_states), "completed")
        steps.append({"key": key, "label": label, "status": step if step_states else "pending"})
    started = [moment for r in runs if (moment := stamp(r.started_at))]
    finished = [moment for r in runs if (moment := stamp(r.finished_at))]
    names = [p.name for p in asked]
    return {
        "job_id": names[0] if len(names) == 1 else token,
        "status": overall,
        "triggered_by": asked[0].annotations.get("daytwo.io/requested-by"),
        "started_at": min(started) if started else None,
        "finished_at": max(finished) if overall in ("completed", "failed") and finished else None,
        "steps": steps,
        "policies": names,
    }


def _tenants(policies: Sequence[Policy]) -> dict[str, dict[str, Any]]:
    tenants: dict[str, dict[str, Any]] = {}

    def row(tenant: str) -> dict[str, Any]:
        return tenants.setdefault(tenant, {"total": 0, "compliant": 0, "warning": 0, "critical": 0, "out": []})

    for policy in policies:
        sla = policy.status.sla or SlaStatus()
        for t in sla.tenants or []:
            counts = row(t.tenant)
            counts["total"] += t.total
            counts["compliant"] += t.compliant
            counts["warning"] += t.warning
            counts["critical"] += t.critical
        for out in sla.out_of_sla or []:
            row(out.tenant or "")["out"].append((policy, out))
    return tenants


def _warning(policy: Policy, out: OutOfSla) -> dict[str, Any]:
    last = stamp(out.last_snapshot_at)
    return {
        "volume_id": out.id,
        "volume_name": out.name,
        "policy": policy.spec.policy_name or policy.name,
        "severity": out.severity,
        "last_snapshot": last,
        "message": f"No snapshot in last {policy.spec.sla_days} days" if last else "No snapshot yet",
    }


def sla_dashboard(policies: Sequence[Policy], days: int) -> dict[str, Any]:
    """/dashboard/snapshot-sla-compliance from every policy's ``status.sla`` (counts summed per tenant).

    Each policy is evaluated on its own slaDays (the warnings say which); ``days`` is the caller's window.
    """
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
                "warnings": [_warning(p, out) for p, out in counts["out"]],
            }
        )
    total = sum(c["total"] for c in tenants.values())
    compliant = sum(c["compliant"] for c in tenants.values())
    return {"overall_compliance": percent(compliant, total), "tenants": rows}


def compliance_report(policies: Sequence[Policy], days: int, tenant: str | None = None) -> dict[str, Any]:
    """/snapshot/compliance: per-policy and per-tenant SLA exactly as the policies' status reports it.

    The operator evaluates each policy against its own ``slaDays``; ``days`` is echoed (``sla_days``
    per policy says which window each number uses).
    """
    board = sla_dashboard(policies, days)
    rows = [t for t in board["tenants"] if not tenant or t["tenant_id"] == tenant]
    per_policy = []
    for policy in policies:
        sla = policy.status.sla or SlaStatus()
        counted = [t for t in sla.tenants or [] if not tenant or t.tenant == tenant]
        total = sum(t.total for t in counted)
        good = sum(t.compliant for t in counted)
        per_policy.append(
            {
                "policy_set_id": policy.name,
                "policy": policy.spec.policy_name or policy.name,
                "sla_days": policy.spec.sla_days,
                "evaluated_at": stamp(sla.evaluated_at),
                "total_volumes": total,
                "compliant": good,
                "compliance_percentage": percent(good, total),
                "out_of_sla_total": sla.out_of_sla_total,
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
