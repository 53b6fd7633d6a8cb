"""The RestoreJob step machine: the steps of each kind of restore, progress, retry, cancel, conditions.

Pure. Steps live in ``status.steps`` (the :class:`daytwo.crds.base.Step` shape) under pf9's step
names, so the facade can answer ``resumed_from_step`` as pf9 does. The handler records a step
Running *before* its cloud call and looks the live state up first (the owner mark on what the job
creates), so a step interrupted by a crash is finished exactly once. A failed step keeps its
condition reason in ``externalIds.reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from ...shared.times import format_time
from ..aggregatemigration.steps import backoff_seconds
from ..conditions import ConditionUpdate

__all__ = [
    "DRY_RUN_ACTIONS",
    "MAX_ATTEMPTS",
    "Progress",
    "add_resource",
    "backoff_seconds",
    "cancel_steps",
    "fail_step",
    "failure",
    "finish_step",
    "initial_steps",
    "job_conditions",
    "mark_deleted",
    "next_step",
    "owner_mark",
    "phase",
    "progress",
    "reset_from",
    "resume_index",
    "skip_for_dry_run",
    "start_step",
    "step_index",
]

#: A step failing transiently this many times fails for good.
MAX_ATTEMPTS = 5

VALIDATE = "VALIDATE_LIVE_STATE"
RECORD_ORIGINAL = "RECORD_ORIGINAL_VM"
DELETE_VM = "DELETE_EXISTING_VM"
WAIT_VM_DELETED = "WAIT_VM_DELETED"
CLEANUP_OLD_PORTS = "CLEANUP_OLD_PORTS"
CREATE_VOLUME = "CREATE_VOLUME_FROM_SNAPSHOT"
WAIT_VOLUME = "WAIT_VOLUME_AVAILABLE"
CREATE_PORTS = "CREATE_PORTS"
CREATE_SERVER = "CREATE_SERVER"
WAIT_SERVER = "WAIT_SERVER_ACTIVE"
VERIFY_IPS = "VERIFY_IPS"
FINALIZE = "FINALIZE"
STOP_GUEST = "STOP_GUEST"
ROLLBACK = "ROLLBACK_SNAPSHOT"
START_GUEST = "START_GUEST"
CLONE = "CLONE_FROM_SNAPSHOT"

_OPENSTACK_TAIL = [CREATE_VOLUME, WAIT_VOLUME, CREATE_PORTS, CREATE_SERVER, WAIT_SERVER, VERIFY_IPS, FINALIZE]
STEPS: dict[tuple[str, str], list[str]] = {
    ("openstack", "NEW"): [VALIDATE, *_OPENSTACK_TAIL],
    ("openstack", "REPLACE"): [
        VALIDATE,
        RECORD_ORIGINAL,
        DELETE_VM,
        WAIT_VM_DELETED,
        CLEANUP_OLD_PORTS,
        *_OPENSTACK_TAIL,
    ],
    ("proxmox", "NEW"): [VALIDATE, CLONE, FINALIZE],
    ("proxmox", "REPLACE"): [VALIDATE, STOP_GUEST, ROLLBACK, START_GUEST, FINALIZE],
}
#: What a dry run records for each step it does not perform.
DRY_RUN_ACTIONS = {
    RECORD_ORIGINAL: "would record the VM's ports and addresses",
    DELETE_VM: "would delete the VM",
    WAIT_VM_DELETED: "would wait until the VM is gone",
    CLEANUP_OLD_PORTS: "would delete the VM's detached ports to free their addresses",
    CREATE_VOLUME: "would create a volume from the restore point",
    WAIT_VOLUME: "would wait until the volume is available",
    CREATE_PORTS: "would create one port per network as the IP strategy says",
    CREATE_SERVER: "would boot the VM from the new volume with the new ports",
    WAIT_SERVER: "would wait until the VM is ACTIVE",
    VERIFY_IPS: "would check the VM's addresses",
    FINALIZE: "would record the result",
    STOP_GUEST: "would stop the guest if it runs",
    ROLLBACK: "would roll the guest back to the snapshot",
    START_GUEST: "would start the guest again if it ran",
    CLONE: "would clone the guest from the snapshot",
}
#: A retry of a failed wait goes back to the step that made what it waited for.
_RESUME_AT = {WAIT_VOLUME: CREATE_VOLUME, WAIT_SERVER: CREATE_SERVER}
_OPEN = ("Pending", "Running")


# Like AggregateMigration's Progress in shape only (deliberate): the states differ (Pending/Canceled vs Stopped).
class Progress(StrEnum):
    """Where an executed restore stands, derived from its steps alone (a restart derives the same)."""

    NOT_STARTED = "NotStarted"
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def finished(self) -> bool:
        """No step will run any more (until a retry)."""
        return self in (Progress.SUCCEEDED, Progress.FAILED, Progress.CANCELED)


def initial_steps(provider: str, mode: str) -> list[dict[str, Any]]:
    """Every step of this kind of restore, Pending."""
    return [{"name": name, "state": "Pending", "attempts": 0} for name in STEPS[(provider, mode)]]


def step_index(steps: Sequence[Mapping[str, Any]], name: str) -> int | None:
    """Position of the named step, or None."""
    return next((i for i, step in enumerate(steps) if step["name"] == name), None)


def progress(steps: Sequence[Mapping[str, Any]]) -> Progress:
    """Canceled, Failed, Succeeded, Running (a step started) or Pending (none started yet)."""
    if not steps:
        return Progress.NOT_STARTED
    states = [step["state"] for step in steps]
    if "Canceled" in states:
        return Progress.CANCELED
    if "Failed" in states:
        return Progress.FAILED
    if not any(state in _OPEN for state in states):
        return Progress.SUCCEEDED
    return Progress.RUNNING if any(state != "Pending" for state in states) else Progress.PENDING


def next_step(steps: Sequence[Mapping[str, Any]]) -> int | None:
    """The first open step, unless the restore failed or was canceled."""
    if progress(steps).finished:
        return None
    return next((i for i, step in enumerate(steps) if step["state"] in _OPEN), None)


def start_step(step: Mapping[str, Any], now: datetime, external_ids: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The step as recorded before its call: Running, one more attempt, ids merged."""
    ids = {**(step.get("externalIds") or {}), **(external_ids or {})}
    started = {**step, "state": "Running", "attempts": int(step.get("attempts", 0)) + 1}
    started["startedAt"] = step.get("startedAt") or format_time(now)
    if ids:
        started["externalIds"] = ids
    return started


def finish_step(
    step: Mapping[str, Any],
    now: datetime,
    message: str,
    *,
    state: str = "Succeeded",
    external_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The step done (Succeeded, or Skipped when there was nothing to do), with what it did."""
    done = {**step, "state": state, "finishedAt": format_time(now), "message": message[:4096]}
    ids = {**(step.get("externalIds") or {}), **(external_ids or {})}
    if ids:
        done["externalIds"] = ids
    done.setdefault("startedAt", format_time(now))
    return done


def fail_step(step: Mapping[str, Any], now: datetime, reason: str, message: str) -> dict[str, Any]:
    """The step failed for good; ``reason`` becomes the condition reason."""
    ids = {**(step.get("externalIds") or {}), "reason": reason}
    return {
        **step,
        "state": "Failed",
        "finishedAt": format_time(now),
        "message": message[:4096],
        "externalIds": ids,
        "startedAt": step.get("startedAt") or format_time(now),
    }


def skip_for_dry_run(steps: Sequence[Mapping[str, Any]], after: int, now: datetime) -> list[dict[str, Any]]:
    """A dry run: every step after ``after`` recorded as Skipped with what it would have done."""
    return [
        dict(step)
        if i <= after
        else finish_step(step, now, f"dry run: {DRY_RUN_ACTIONS.get(step['name'], 'skipped')}", state="Skipped")
        for i, step in enumerate(steps)
    ]


def cancel_steps(steps: Sequence[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Every open step Canceled (a step in flight stops at its next check)."""
    return [
        {**step, "state": "Canceled", "finishedAt": format_time(now), "message": "canceled (spec.cancel)"}
        if step["state"] in _OPEN
        else dict(step)
        for step in steps
    ]


def failure(steps: Sequence[Mapping[str, Any]]) -> tuple[str, str, str] | None:
    """(step name, reason, message) of the failed step, if any."""
    for step in steps:
        if step["state"] == "Failed":
            reason = (step.get("externalIds") or {}).get("reason") or "StepFailed"
            return str(step["name"]), str(reason), str(step.get("message") or "")
    return None


def resume_index(steps: Sequence[Mapping[str, Any]], vanished: Iterable[str], redo_ports: bool = False) -> int | None:
    """Where a retry starts: the failed step (a failed wait: the step that made what it waited for), or
    earlier when something a finished step made is gone (cleanup deleted it) or the ports must change."""
    found = failure(steps)
    if found is None:
        return None
    candidates = [step_index(steps, _RESUME_AT.get(found[0], found[0]))]
    candidates += [step_index(steps, name) for name in vanished]
    if redo_ports:
        candidates.append(step_index(steps, CREATE_PORTS))
    return min(i for i in candidates if i is not None)


def reset_from(steps: Sequence[Mapping[str, Any]], index: int, note: str) -> list[dict[str, Any]]:
    """Steps from ``index`` on back to Pending (attempts kept), for a retry."""
    out = []
    for i, step in enumerate(steps):
        if i < index:
            out.append(dict(step))
            continue
        ids = {k: v for k, v in (step.get("externalIds") or {}).items() if k not in ("reason", "upid")}
        fresh = {"name": step["name"], "state": "Pending", "attempts": int(step.get("attempts", 0)), "message": note}
        if ids:
            fresh["externalIds"] = ids
        out.append(fresh)
    return out


def owner_mark(namespace: str, name: str) -> str:
    """The ``daytwo.io/owner`` value of everything a RestoreJob creates."""
    return f"{namespace}/RestoreJob/{name}"


def add_resource(resources: Sequence[Mapping[str, Any]], entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``createdResources`` with ``entry`` added (or updated, matched by type and id)."""
    out = [dict(r) for r in resources if (r["type"], r["id"]) != (entry["type"], entry["id"])]
    previous = next((r for r in resources if (r["type"], r["id"]) == (entry["type"], entry["id"])), {})
    out.append({**previous, **{k: v for k, v in entry.items() if v is not None}})
    return out


def mark_deleted(resources: Sequence[Mapping[str, Any]], type_: str, id_: str) -> list[dict[str, Any]]:
    """``createdResources`` with one entry marked deleted."""
    return [{**r, "deleted": True} if (r["type"], r["id"]) == (type_, id_) else dict(r) for r in resources]


def _done_count(steps: Sequence[Mapping[str, Any]]) -> str:
    done = sum(1 for s in steps if s["state"] in ("Succeeded", "Skipped"))
    return f"{done}/{len(steps)} steps done"


def job_conditions(
    state: Progress, steps: Sequence[Mapping[str, Any]], *, dry_run: bool, summary: str
) -> list[ConditionUpdate]:
    """Succeeded, Canceled, Ready, Reconciling and Stalled of an executed restore."""
    if state in (Progress.PENDING, Progress.RUNNING):
        current = next((s["name"] for s in steps if s["state"] in _OPEN), "")
        message = f"{current} ({_done_count(steps)}): {summary}"
        return [
            ConditionUpdate("Ready", False, "Restoring", message),
            ConditionUpdate("Reconciling", True, "Restoring", message),
            ConditionUpdate("Stalled", False, "Restoring"),
        ]
    if state is Progress.SUCCEEDED:
        reason = "DryRun" if dry_run else "Restored"
        message = f"dry run finished, nothing changed: {summary}" if dry_run else summary
        return [
            ConditionUpdate("Succeeded", True, reason, message),
            ConditionUpdate("Ready", True, reason, message),
            ConditionUpdate("Reconciling", False, reason),
            ConditionUpdate("Stalled", False, reason),
        ]
    if state is Progress.CANCELED:
        message = f"canceled after {_done_count(steps)}; see status.createdResources and spec.cleanup"
        return [
            ConditionUpdate("Canceled", True, "Canceled", message),
            ConditionUpdate("Succeeded", False, "Canceled", message),
            ConditionUpdate("Ready", False, "Canceled", message),
            ConditionUpdate("Reconciling", False, "Canceled"),
            ConditionUpdate("Stalled", False, "Canceled"),
        ]
    name, reason, text = failure(steps) or ("", "StepFailed", "")
    message = f"{name} failed: {text}; set spec.retry.requestedAt to retry from it, or spec.cleanup to clean up"
    return [
        ConditionUpdate("Succeeded", False, reason, message),
        ConditionUpdate("Ready", False, reason, message),
        ConditionUpdate("Reconciling", False, reason),
        ConditionUpdate("Stalled", True, reason, message),
    ]


def phase(execute: bool, state: Progress, planned: bool | None) -> str:
    """pf9's job status: PLANNED, PENDING, RUNNING, COMPLETED, FAILED or CANCELED."""
    by_state = {
        Progress.CANCELED: "CANCELED",
        Progress.FAILED: "FAILED",
        Progress.SUCCEEDED: "COMPLETED",
        Progress.RUNNING: "RUNNING",
        Progress.PENDING: "PENDING",
    }
    if state in by_state:
        return by_state[state]
    if execute or planned is None:
        return "PENDING"
    return "PLANNED" if planned else "FAILED"
