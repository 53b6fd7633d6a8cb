"""The RestoreJob step machine: the steps of each kind of restore, progress, retry, cancel, conditions.

Pure. Steps are :class:`daytwo.crds.base.Step` models (``status.steps`` as the handler parses it), under
pf9's step names, so the facade can answer ``resumed_from_step`` as pf9 does. The handler records a step
Running *before* its cloud call and looks the live state up first (the owner mark on what the job
creates), so a step interrupted by a crash is finished exactly once. A failed step keeps its
condition reason in ``externalIds.reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from daytwo.crds.base import Step, StepState
from daytwo.crds.restorejob_status import CreatedResource

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
    "note_step",
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
_OPEN = (StepState.PENDING, StepState.RUNNING)
_MESSAGE_LIMIT = 4096


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


def initial_steps(provider: str, mode: str) -> list[Step]:
    """Every step of this kind of restore, Pending."""
    return [Step(name=name, state=StepState.PENDING, attempts=0) for name in STEPS[(provider, mode)]]


def step_index(steps: Sequence[Step], name: str) -> int | None:
    """Position of the named step, or None."""
    return next((i for i, step in enumerate(steps) if step.name == name), None)


def progress(steps: Sequence[Step]) -> Progress:
    """Canceled, Failed, Succeeded, Running (a step started) or Pending (none started yet)."""
    if not steps:
        return Progress.NOT_STARTED
    states = [step.state for step in steps]
    if StepState.CANCELED in states:
        return Progress.CANCELED
    if StepState.FAILED in states:
        return Progress.FAILED
    if not any(state in _OPEN for state in states):
        return Progress.SUCCEEDED
    return Progress.RUNNING if any(state != StepState.PENDING for state in states) else Progress.PENDING


def next_step(steps: Sequence[Step]) -> int | None:
    """The first open step, unless the restore failed or was canceled."""
    if progress(steps).finished:
        return None
    return next((i for i, step in enumerate(steps) if step.state in _OPEN), None)


def _second(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(microsecond=0)  # status times are written at second precision


def _ids(step: Step, extra: Mapping[str, str] | None) -> dict[str, str] | None:
    """The step's externalIds with ``extra`` merged; None when there are none."""
    return {**(step.external_ids or {}), **(extra or {})} or None


def start_step(step: Step, now: datetime, external_ids: Mapping[str, str] | None = None) -> Step:
    """The step as recorded before its call: Running, one more attempt, ids merged."""
    return step.model_copy(
        update={
            "state": StepState.RUNNING,
            "attempts": step.attempts + 1,
            "started_at": step.started_at or _second(now),
            "external_ids": _ids(step, external_ids),
        }
    )


def finish_step(
    step: Step,
    now: datetime,
    message: str,
    *,
    state: StepState = StepState.SUCCEEDED,
    external_ids: Mapping[str, str] | None = None,
) -> Step:
    """The step done (Succeeded, or Skipped when there was nothing to do), with what it did."""
    return step.model_copy(
        update={
            "state": state,
            "finished_at": _second(now),
            "message": message[:_MESSAGE_LIMIT],
            "external_ids": _ids(step, external_ids),
            "started_at": step.started_at or _second(now),
        }
    )


def note_step(step: Step, external_ids: Mapping[str, str] | None = None, message: str | None = None) -> Step:
    """The running step with ids (a task UPID, a vmid) or a message recorded, without a new attempt."""
    update: dict[str, object] = {"external_ids": _ids(step, external_ids)}
    if message is not None:
        update["message"] = message[:_MESSAGE_LIMIT]
    return step.model_copy(update=update)


def fail_step(step: Step, now: datetime, reason: str, message: str) -> Step:
    """The step failed for good; ``reason`` becomes the condition reason."""
    return step.model_copy(
        update={
            "state": StepState.FAILED,
            "finished_at": _second(now),
            "message": message[:_MESSAGE_LIMIT],
            "external_ids": _ids(step, {"reason": reason}),
            "started_at": step.started_at or _second(now),
        }
    )


def skip_for_dry_run(steps: Sequence[Step], after: int, now: datetime) -> list[Step]:
    """A dry run: every step after ``after`` recorded as Skipped with what it would have done."""
    return [
        step
        if i <= after
        else finish_step(step, now, f"dry run: {DRY_RUN_ACTIONS.get(step.name, 'skipped')}", state=StepState.SKIPPED)
        for i, step in enumerate(steps)
    ]


def cancel_steps(steps: Sequence[Step], now: datetime) -> list[Step]:
    """Every open step Canceled (a step in flight stops at its next check)."""
    return [
        step.model_copy(
            update={"state": StepState.CANCELED, "finished_at": _second(now), "message": "canceled (spec.cancel)"}
        )
        if step.state in _OPEN
        else step
        for step in steps
    ]


def failure(steps: Sequence[Step]) -> tuple[str, str, str] | None:
    """(step name, reason, message) of the failed step, if any."""
    for step in steps:
        if step.state == StepState.FAILED:
            reason = (step.external_ids or {}).get("reason") or "StepFailed"
            return step.name, reason, step.message or ""
    return None


def resume_index(steps: Sequence[Step], vanished: Iterable[str], redo_ports: bool = False) -> int | None:
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


def reset_from(steps: Sequence[Step], index: int, note: str) -> list[Step]:
    """Steps from ``index`` on back to Pending (attempts and ids kept, but not a failure reason or a task
    UPID), for a retry."""
    out = []
    for i, step in enumerate(steps):
        if i < index:
            out.append(step)
            continue
        ids = {k: v for k, v in (step.external_ids or {}).items() if k not in ("reason", "upid")}
        out.append(
            Step(
                name=step.name, state=StepState.PENDING, attempts=step.attempts, message=note, external_ids=ids or None
            )
        )
    return out


def owner_mark(namespace: str, name: str) -> str:
    """The ``daytwo.io/owner`` value of everything a RestoreJob creates."""
    return f"{namespace}/RestoreJob/{name}"


def add_resource(resources: Sequence[CreatedResource], entry: CreatedResource) -> list[CreatedResource]:
    """``createdResources`` with ``entry`` added (or updated, matched by type and id: its set fields win)."""
    key = (entry.type, entry.id)
    previous = next((r for r in resources if (r.type, r.id) == key), None)
    merged = (
        entry
        if previous is None
        else previous.model_copy(update=entry.model_dump(exclude_unset=True, exclude_none=True))
    )
    return [*(r for r in resources if (r.type, r.id) != key), merged]


def mark_deleted(resources: Sequence[CreatedResource], type_: str, id_: str) -> list[CreatedResource]:
    """``createdResources`` with one entry marked deleted."""
    return [r.model_copy(update={"deleted": True}) if (r.type, r.id) == (type_, id_) else r for r in resources]


def _done_count(steps: Sequence[Step]) -> str:
    done = sum(1 for s in steps if s.state in (StepState.SUCCEEDED, StepState.SKIPPED))
    return f"{done}/{len(steps)} steps done"


def job_conditions(state: Progress, steps: Sequence[Step], *, dry_run: bool, summary: str) -> list[ConditionUpdate]:
    """Succeeded, Canceled, Ready, Reconciling and Stalled of an executed restore."""
    if state in (Progress.PENDING, Progress.RUNNING):
        current = next((s.name for s in steps if s.state in _OPEN), "")
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
