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
from datetime import UTC, datetime
from typing import Any

from daytwo.crds.snapshotpolicy import SnapshotRun
from daytwo.operator.shared.snapshots import guest_snapshot_name, parse_duration, policy_view

from ..snapshotpolicy import Policy, stamp

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


def is_ondemand(policy: Policy) -> bool:
    """Whether the facade created ``policy`` for one snapshot request."""
    return SNAPSHOT_OF in policy.labels


def covers_proxmox(policy: Policy) -> bool:
    """Whether ``policy`` snapshots Proxmox guests."""
    return policy.spec.targets.proxmox is not None


def covers(policy: Policy, cr: str, vmid: int, node: str, target_ids: Sequence[str] = ()) -> bool:
    """Whether ``policy`` snapshots guest ``vmid`` (on ``node``) of ProxmoxNode ``cr``."""
    targets = policy.spec.targets.proxmox
    if targets is None or policy.spec.credentials_ref.name != cr:
        return False
    return vmid in (targets.vmids or []) or node in (targets.nodes or []) or f"{node}/{vmid}" in target_ids


def _when(run: SnapshotRun) -> datetime:
    return run.scheduled_at or run.started_at or datetime.min.replace(tzinfo=UTC)


def runs(policy: Policy) -> list[SnapshotRun]:
    """The policy's runs, newest first: current, last, then history (each once)."""
    return sorted(policy.runs, key=_when, reverse=True)


def pve_snapshot_name(policy: Policy, run: SnapshotRun) -> str | None:
    """The Proxmox snapshot name ``run`` of ``policy`` makes; None when the policy or run is unusable."""
    if run.scheduled_at is None:
        return None
    try:
        view = policy_view(policy.namespace, policy.name, policy.spec)
    except ValueError:
        return None
    return guest_snapshot_name(view, run.scheduled_at)


def _failed_for(run: SnapshotRun, vm_id: str, node: str | None = None) -> bool:
    """Whether ``run`` failed for guest ``vm_id`` (on ``node``, when given)."""
    for failure in run.failures or []:
        where, _, vmid = failure.target.rpartition("/")
        if vmid == vm_id and node in (None, where):
            return True
    return False


def _snapshot(policy: Policy, run: SnapshotRun | None, vm_id: str, ondemand: bool) -> dict[str, Any]:
    pve = pve_snapshot_name(policy, run) if run else None
    created = (stamp(run.finished_at) or stamp(run.started_at)) if run else None
    return {
        "id": policy.name if ondemand or run is None else run.id,
        "vm_id": vm_id,
        "name": policy.annotations.get(SNAPSHOT_NAME) or pve or policy.name,
        "description": policy.annotations.get(DESCRIPTION) if ondemand else f"SnapshotPolicy {policy.name}",
        "created_at": created or policy.created,
        "include_memory": policy.spec.snapshot.include_memory,
        "disk_snapshots": [],
        "parent_snapshot": None,
        "status": "creating" if run is None else BACKUP_STATUS.get(run.state, "pending"),
        "snapshot_name": pve,
        "policy": policy.name,
    }


def snapshots(
    policies: Iterable[Policy],
    cr: str,
    vmid: int,
    node: str,
    targets: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """horcrux's snapshots of one guest, oldest first, each the parent of the next."""
    rows: list[dict[str, Any]] = []
    for policy in policies:
        if not covers(policy, cr, vmid, node, (targets or {}).get(policy.name, ())):
            continue
        found = runs(policy)
        if is_ondemand(policy):
            rows.append(_snapshot(policy, found[0] if found else None, str(vmid), True))
            continue
        made = [
            r
            for r in found
            if r.state in ("Succeeded", "PartiallyFailed") and r.created > 0 and not _failed_for(r, str(vmid), node)
        ]
        rows += [_snapshot(policy, r, str(vmid), False) for r in made[: policy.keep_last or None]]
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


def _vm_ids(policy: Policy, target_ids: Sequence[str]) -> list[str]:
    targets = policy.spec.targets.proxmox
    ids = {str(v) for v in (targets.vmids if targets else None) or []}
    ids |= {t.rpartition("/")[2] for t in target_ids}
    return sorted(ids, key=lambda v: (len(v), v))


def _retention_days(policy: Policy) -> int | None:
    max_age = policy.spec.retention.max_age if policy.spec.retention else None
    if not max_age:
        return None
    try:
        return max(1, parse_duration(max_age).days)
    except ValueError:
        return None


def backup_job(policy: Policy, target_ids: Sequence[str] = ()) -> dict[str, Any]:
    """horcrux's backup job for a scheduled SnapshotPolicy."""
    spec, status = policy.spec, policy.status
    last = status.last_run
    last_run = (stamp(last.finished_at) or stamp(last.started_at)) if last else None
    return {
        "id": policy.name,
        "name": policy.name,
        "schedule": policy.cron,
        "vm_ids": _vm_ids(policy, target_ids),
        "retention_days": _retention_days(policy),
        "keep_last": spec.retention.keep_last if spec.retention else None,
        "enabled": not spec.suspend,
        "last_run": last_run or stamp(status.last_schedule_time),
        "next_run": stamp(status.next_schedule_time),
        "proxmox_node": spec.credentials_ref.name,
    }


def backups(
    policies: Iterable[Policy],
    names: Mapping[str, str],
    targets: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """horcrux's backups: one per run per VM of every Proxmox SnapshotPolicy, newest first.

    ``names`` maps vmid -> VM name (from the ProxmoxNode inventory).
    """
    rows: list[dict[str, Any]] = []
    for policy in policies:
        if not covers_proxmox(policy):
            continue
        vm_ids = _vm_ids(policy, (targets or {}).get(policy.name, ()))
        for run in runs(policy):
            state = BACKUP_STATUS.get(run.state, "pending")
            partial = run.state == "PartiallyFailed"
            for vm_id in vm_ids:
                rows.append(
                    {
                        "id": f"{run.id}.{vm_id}",
                        "vm_id": vm_id,
                        "vm_name": names.get(vm_id),
                        "type": "snapshot",
                        "status": ("failed" if _failed_for(run, vm_id) else "completed") if partial else state,
                        "size": None,
                        "path": pve_snapshot_name(policy, run),
                        "created_at": stamp(run.started_at) or stamp(run.scheduled_at),
                        "completed_at": stamp(run.finished_at),
                        "compression": None,
                        "job_id": policy.name,
                    }
                )
    rows.sort(key=lambda row: str(row["created_at"] or ""), reverse=True)
    return rows
