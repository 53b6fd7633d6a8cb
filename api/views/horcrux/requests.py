"""The daytwo objects horcrux requests become (pure builders, unit-tested).

* An on-demand snapshot is a SnapshotPolicy of its own that targets one guest and runs once on
  creation (``runOnCreate``); its schedule is ``@yearly`` with ``keepLast: 1``, so it never keeps more
  than that one snapshot. Deleting the horcrux snapshot deletes this policy.
* A snapshot restore is a RestoreJob with ``source.proxmox`` and ``execute: true``.
* A backup job is a SnapshotPolicy with ``targets.proxmox.vmids``, the cron schedule and retention.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from daytwo.crds.base import CredentialsKind, CredentialsRef
from daytwo.crds.restorejob import ProxmoxRestoreSource, RestoreJobSpec, RestoreMode, RestoreSource
from daytwo.crds.snapshotpolicy import (
    ProxmoxGuestTargets,
    Retention,
    SnapshotPolicySpec,
    SnapshotTargets,
    SnapshotTemplate,
)

from ..snapshotpolicy import new_spec, spec_body
from .snapshots import DESCRIPTION, SNAPSHOT_NAME, SNAPSHOT_OF

__all__ = ["backup_job_body", "dns_name", "ondemand_snapshot_body", "restore_job_body"]

MANAGED = {"app.kubernetes.io/managed-by": "daytwo-api"}


def dns_name(*parts: str, limit: int = 63) -> str:
    """A DNS-1123 name from ``parts``; a hash suffix keeps long or lossy names unique."""
    raw = "-".join(parts)
    slug = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug) or "x"
    if len(slug) > limit or slug != raw:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:6]
        slug = f"{slug[: limit - 7].rstrip('-')}-{digest}"
    return slug


def ondemand_snapshot_body(
    cr: str, vmid: int, name: str, description: str | None, include_memory: bool
) -> dict[str, Any]:
    """The SnapshotPolicy that takes one snapshot of guest ``vmid`` now."""
    annotations = {SNAPSHOT_NAME: name}
    if description:
        annotations[DESCRIPTION] = description
    return {
        "metadata": {
            "name": dns_name("hx", str(vmid), name),
            "labels": {**MANAGED, SNAPSHOT_OF: str(vmid)},
            "annotations": annotations,
        },
        "spec": spec_body(
            SnapshotPolicySpec(
                credentials_ref=_proxmox_node(cr),
                targets=_guests([vmid]),
                schedule="@yearly",
                retention=Retention(keep_last=1),
                snapshot=SnapshotTemplate(name_prefix="hx", include_memory=include_memory),
                run_on_create=True,
            )
        ),
    }


def restore_job_body(
    name: str,
    cr: str,
    node: str,
    vmid: int,
    snapshot: str,
    mode: str = "NEW",
    confirm: str | None = None,
    new_vm_name: str | None = None,
) -> dict[str, Any]:
    """The RestoreJob restoring guest ``vmid`` from Proxmox snapshot ``snapshot`` (approved: execute)."""
    spec = RestoreJobSpec(
        credentials_ref=CredentialsRef(kind=CredentialsKind.PROXMOX_NODE, name=cr),
        source=RestoreSource(proxmox=ProxmoxRestoreSource(node=node, vmid=vmid, snapshot=snapshot)),
        mode=RestoreMode(mode),
        execute=True,
        confirm=confirm or None,
        new_vm_name=new_vm_name if new_vm_name and mode == "NEW" else None,
    )
    body = spec.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")
    return {"metadata": {"name": name, "labels": {**MANAGED, "daytwo.io/horcrux-vm": str(vmid)}}, "spec": body}


def backup_job_body(
    name: str,
    cr: str,
    schedule: str,
    vmids: list[int],
    retention_days: int | None,
    keep_last: int | None,
    enabled: bool,
) -> dict[str, Any]:
    """The SnapshotPolicy of a horcrux backup job (retention: days -> maxAge, else keepLast, default 7);
    InvalidSpec when the schedule is not cron."""
    retention = Retention(max_age=f"{retention_days}d") if retention_days else Retention()
    if keep_last or not retention_days:
        retention.keep_last = keep_last or 7
    spec = new_spec(
        credentials_ref=_proxmox_node(cr),
        targets=_guests(sorted(set(vmids))),
        schedule=schedule,
        retention=retention,
        suspend=not enabled,
    )
    return {
        "metadata": {"name": dns_name(name), "labels": dict(MANAGED), "annotations": {"daytwo.io/display-name": name}},
        "spec": spec_body(spec),
    }


def _proxmox_node(name: str) -> CredentialsRef:
    return CredentialsRef(kind=CredentialsKind.PROXMOX_NODE, name=name)


def _guests(vmids: list[int]) -> SnapshotTargets:
    return SnapshotTargets(proxmox=ProxmoxGuestTargets(vmids=vmids))
