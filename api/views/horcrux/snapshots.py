"""horcrux snapshots, backups and backup jobs from SnapshotPolicy objects with Proxmox targets.

* A **snapshot** is either an on-demand one (a SnapshotPolicy the facade created for one request,
  labelled :data:`SNAPSHOT_OF`; id = the policy name, name/description from its annotations) or a
  snapshot a scheduled policy's run made (id = the run id). The Proxmox snapshot name is the one the
  operator derives from the policy and the slot (``shared.snapshots.guest_snapshot_name``).
  Scheduled runs older than ``retention.keepLast`` are left out (retention deleted them).
* A **backup job** is a scheduled SnapshotPolicy with Proxmox targets; a **backup** is one run of
  it for one VM.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from daytwo.crds.snapshotpolicy import named_policy
from daytwo.operator.shared.snapshots import guest_snapshot_name, parse_duration, parse_time, policy_spec, policy_view

__all__ = [
    "DESCRIPTION",
    "SNAPSHOT_NAME",
    "SNAPSHOT_OF",
    "backup_job",
    "backups",
    "covers",
    "covers_proxmox",
    "is_ondemand",
    "pve_snapshot_name",
    "runs",
    "snapshot_tree",
    "snapshots",
]

#: Label of an on-demand snapshot policy: the vmid it snapshots.
SNAPSHOT_OF = "daytwo.io/horcrux-snapshot-of"
#: Annotations of an on-demand snapshot policy: the name and description horcrux was given.
SNAPSHOT_NAME = "daytwo.io/horcrux-snapshot-name"
DESCRIPTION = "daytwo.io/horcrux-description"
#: Run state -> horcrux backup status.
BACKUP_STATUS = {
    "Pending": "pending",
    "Running": "running",
    "Succeeded": "completed",
    "PartiallyFailed": "failed",
    "Failed": "failed",
}


def _meta(obj: Mapping[str, Any], field: str) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get(field) or {}


def is_ondemand(policy: Mapping[str, Any]) -> bool:
    """Whether the facade created ``policy`` for one snapshot request."""
    return SNAPSHOT_OF in _meta(policy, "labels")


def covers_proxmox(policy: Mapping[str, Any]) -> bool:
    """Whether ``policy`` snapshots Proxmox guests."""
    return _proxmox_targets(policy) is not None


def _proxmox_targets(policy: Mapping[str, Any]) -> Mapping[str, Any] | None:
    targets: Mapping[str, Any] | None = ((policy.get("spec") or {}).get("targets") or {}).get("proxmox")
    return targets


def covers(policy: Mapping[str, Any], cr: str, vmid: int, node: str, target_ids: Sequence[str] = ()) -> bool:
    """Whether ``policy`` snapshots guest ``vmid`` (on ``node``) of ProxmoxNode ``cr``."""
    targets = _proxmox_targets(policy)
    spec = policy.get("spec") or {}
    if targets is None or (spec.get("credentialsRef") or {}).get("name") != cr:
        return False
    return (
        vmid in (targets.get("vmids") or []) or node in (targets.get("nodes") or []) or f"{node}/{vmid}" in target_ids
    )


def runs(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The policy's runs, newest first: current, last, then history (each once)."""
    status = policy.get("status") or {}
    found: dict[str, Mapping[str, Any]] = {}
    for run in [status.get("currentRun"), status.get("lastRun"), *(status.get("history") or [])]:
        if run and run.get("id") and run["id"] not in found:
            found[run["id"]] = run
    return sorted(found.values(), key=lambda r: str(r.get("scheduledAt") or r.get("startedAt") or ""), reverse=True)


def pve_snapshot_name(policy: Mapping[str, Any], run: Mapping[str, Any]) -> str | None:
    """The Proxmox snapshot name ``run`` of ``policy`` makes; None when the policy or run is unusable."""
    slot = parse_time(run.get("scheduledAt"))
    if slot is None:
        return None
    metadata = policy.get("metadata") or {}
    try:
        view = policy_view(str(metadata.get("namespace", "")), str(metadata.get("name", "")), policy_spec(policy))
    except ValueError:
        return None
    return guest_snapshot_name(view, slot)


def _failed_for(run: Mapping[str, Any], node: str, vmid: int) -> bool:
    return any(f.get("target") == f"{node}/{vmid}" for f in run.get("failures") or [])


def _snapshot(policy: Mapping[str, Any], run: Mapping[str, Any] | None, vm_id: str, ondemand: bool) -> dict[str, Any]:
    metadata = policy.get("metadata") or {}
    annotations = _meta(policy, "annotations")
    pve = pve_snapshot_name(policy, run) if run else None
    created = (run or {}).get("finishedAt") or (run or {}).get("startedAt") or metadata.get("creationTimestamp")
    return {
        "id": metadata["name"] if ondemand else str((run or {}).get("id")),
        "vm_id": vm_id,
        "name": annotations.get(SNAPSHOT_NAME) or pve or metadata["name"],
        "description": annotations.get(DESCRIPTION) if ondemand else f"SnapshotPolicy {metadata['name']}",
        "created_at": created,
        "include_memory": bool(((policy.get("spec") or {}).get("snapshot") or {}).get("includeMemory")),
        "disk_snapshots": [],
        "parent_snapshot": None,
        "status": "creating" if run is None else BACKUP_STATUS.get(str(run.get("state")), "pending"),
        "snapshot_name": pve,
        "policy": metadata["name"],
    }


def snapshots(
    policies: Iterable[Mapping[str, Any]],
    cr: str,
    vmid: int,
    node: str,
    targets: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """horcrux's snapshots of one guest, oldest first, each the parent of the next."""
    rows: list[dict[str, Any]] = []
    for policy in policies:
        name = str((policy.get("metadata") or {}).get("name"))
        if not covers(policy, cr, vmid, node, (targets or {}).get(name, ())):
            continue
        found = runs(policy)
        if is_ondemand(policy):
            rows.append(_snapshot(policy, found[0] if found else None, str(vmid), True))
            continue
        keep = ((policy.get("spec") or {}).get("retention") or {}).get("keepLast")
        if keep is None and (policy.get("spec") or {}).get("policyName"):
            keep = named_policy(str(policy["spec"]["policyName"]))[1]
        made = [
            r
            for r in found
            if r.get("state") in ("Succeeded", "PartiallyFailed")
            and int(r.get("created", 0)) > 0
            and not _failed_for(r, node, vmid)
        ]
        rows += [_snapshot(policy, r, str(vmid), False) for r in made[: keep or None]]
    rows.sort(key=lambda row: str(row["created_at"] or ""))
    for before, after in itertools.pairwise(rows):
        after["parent_snapshot"] = before["id"]
    return rows


def snapshot_tree(vm_id: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """horcrux's snapshot tree from the parent links of :func:`snapshots`."""
    nodes = {
        row["id"]: {"id": row["id"], "name": row["name"], "created_at": row["created_at"], "children": []}
        for row in rows
    }
    roots: list[dict[str, Any]] = []
    for row in rows:
        parent = nodes.get(row.get("parent_snapshot") or "")
        (parent["children"] if parent else roots).append(nodes[row["id"]])
    return {"vm_id": vm_id, "snapshots": roots}


def _cron(spec: Mapping[str, Any]) -> str:
    if spec.get("policyName"):
        return named_policy(str(spec["policyName"]))[0]
    return str(spec.get("schedule") or "")


def _vm_ids(policy: Mapping[str, Any], target_ids: Sequence[str]) -> list[str]:
    targets = _proxmox_targets(policy) or {}
    ids = {str(v) for v in targets.get("vmids") or []}
    ids |= {t.rpartition("/")[2] for t in target_ids}
    return sorted(ids, key=lambda v: (len(v), v))


def _retention_days(spec: Mapping[str, Any]) -> int | None:
    max_age = (spec.get("retention") or {}).get("maxAge")
    if not max_age:
        return None
    try:
        return max(1, parse_duration(str(max_age)).days)
    except ValueError:
        return None


def backup_job(policy: Mapping[str, Any], target_ids: Sequence[str] = ()) -> dict[str, Any]:
    """horcrux's backup job for a scheduled SnapshotPolicy."""
    spec, status = policy.get("spec") or {}, policy.get("status") or {}
    last = status.get("lastRun") or {}
    keep = (spec.get("retention") or {}).get("keepLast")
    return {
        "id": policy["metadata"]["name"],
        "name": policy["metadata"]["name"],
        "schedule": _cron(spec),
        "vm_ids": _vm_ids(policy, target_ids),
        "retention_days": _retention_days(spec),
        "keep_last": keep,
        "enabled": not spec.get("suspend", False),
        "last_run": last.get("finishedAt") or last.get("startedAt") or status.get("lastScheduleTime"),
        "next_run": status.get("nextScheduleTime"),
        "proxmox_node": (spec.get("credentialsRef") or {}).get("name"),
    }


def backups(
    policies: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
    targets: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """horcrux's backups: one per run per VM of every Proxmox SnapshotPolicy, newest first.

    ``names`` maps vmid -> VM name (from the ProxmoxNode inventory).
    """
    rows: list[dict[str, Any]] = []
    for policy in policies:
        if _proxmox_targets(policy) is None:
            continue
        name = str(policy["metadata"]["name"])
        vm_ids = _vm_ids(policy, (targets or {}).get(name, ()))
        for run in runs(policy):
            for vm_id in vm_ids:
                failed = any(str(f.get("target", "")).rpartition("/")[2] == vm_id for f in run.get("failures") or [])
                state = BACKUP_STATUS.get(str(run.get("state")), "pending")
                partial = run.get("state") == "PartiallyFailed"
                rows.append(
                    {
                        "id": f"{run['id']}.{vm_id}",
                        "vm_id": vm_id,
                        "vm_name": names.get(vm_id),
                        "type": "snapshot",
                        "status": ("failed" if failed else "completed") if partial else state,
                        "size": None,
                        "path": pve_snapshot_name(policy, run),
                        "created_at": run.get("startedAt") or run.get("scheduledAt"),
                        "completed_at": run.get("finishedAt"),
                        "compression": None,
                        "job_id": name,
                    }
                )
    rows.sort(key=lambda row: str(row["created_at"] or ""), reverse=True)
    return rows
