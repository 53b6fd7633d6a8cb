"""The AggregateMigration step machine: forward steps, rollback steps, progress, command log.

Pure. Steps live in ``status.steps`` as plain dicts (the :class:`daytwo.crds.base.Step` shape);
``externalIds`` carries what a restarted operator needs: action, aggregate name and id, host,
and whether the step belongs to the rollback. The handler marks a step Running *before* it calls
Nova and checks membership first, so a step interrupted by a crash is finished exactly once:
if the host is already where the step puts it, the step succeeds without a call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from daytwo.crds.aggregatemigration import CommandLogEntry
from daytwo.crds.base import MAX_STATUS_LIST, Step, StepState

from ...shared.times import format_time
from ..conditions import ConditionUpdate
from .plan import AggregateState, command_text

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BACKOFF_SECONDS",
    "Progress",
    "append_log",
    "backoff_seconds",
    "fail_step",
    "finish_step",
    "forward_steps",
    "is_done",
    "log_entry",
    "next_step",
    "progress",
    "progress_conditions",
    "rollback_steps",
    "start_step",
    "step_command",
]

#: A step that keeps failing transiently is given up after this many attempts.
MAX_ATTEMPTS = 5
#: Longest wait between retries of a transient failure.
MAX_BACKOFF_SECONDS = 300.0
_OPEN = ("Pending", "Running")


# Not shared with RestoreJob's Progress (same shape, deliberately): each kind has its own states.
class Progress(StrEnum):
    """Where an executed migration stands, derived from its steps."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    STOPPED = "Stopped"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"

    @property
    def finished(self) -> bool:
        """No more steps will run."""
        return self not in (Progress.NOT_STARTED, Progress.RUNNING, Progress.ROLLING_BACK)


def _written(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A step as ``status.steps`` holds it, built (and bounded) by the Step model."""
    return Step.model_validate(fields).to_k8s()


def _step(action: str, aggregate: AggregateState, host: str, rollback: bool) -> dict[str, Any]:
    prefix = "rollback/" if rollback else ""
    ids = {
        "action": action,
        "aggregate": aggregate.name,
        "aggregateId": aggregate.id,
        "host": host,
        "phase": "rollback" if rollback else "forward",
    }
    return Step(name=f"{prefix}{action}-host/{aggregate.name}", state=StepState.PENDING, external_ids=ids).to_k8s()


def forward_steps(
    host: str, add_to: Sequence[AggregateState], remove_from: Sequence[AggregateState]
) -> list[dict[str, Any]]:
    """Every add, then every remove: the host is never left in no aggregate."""
    return [_step("add", agg, host, False) for agg in add_to] + [
        _step("remove", agg, host, False) for agg in remove_from
    ]


def _ids(step: Mapping[str, Any]) -> Mapping[str, str]:
    return step.get("externalIds") or {}


def step_command(step: Mapping[str, Any]) -> str:
    """The equivalent openstack CLI command of a step."""
    ids = _ids(step)
    return command_text(ids["action"], ids["aggregate"], ids["host"])


def is_done(step: Mapping[str, Any], members: frozenset[str]) -> bool:
    """Whether the host already is where the step puts it (in the aggregate for add, out for remove)."""
    ids = _ids(step)
    return (ids["host"] in members) == (ids["action"] == "add")


def next_step(steps: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the first Pending or Running step, unless a failure stops the forward steps."""
    for index, step in enumerate(steps):
        if step["state"] == "Failed":
            if _ids(step).get("phase") == "rollback":
                return None
            rest = [i for i, later in enumerate(steps) if i > index and _ids(later).get("phase") == "rollback"]
            return next((i for i in rest if steps[i]["state"] in _OPEN), None)
        if step["state"] in _OPEN:
            return index
    return None


def start_step(step: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The step as recorded before its call: Running, one more attempt."""
    return _written(
        {
            **step,
            "state": StepState.RUNNING,
            "attempts": int(step.get("attempts") or 0) + 1,
            "startedAt": step.get("startedAt") or format_time(now),
        }
    )


def finish_step(step: Mapping[str, Any], now: datetime, *, called: bool, message: str) -> dict[str, Any]:
    """The step done: Succeeded when this migration changed the membership, Skipped when it already held."""
    state = StepState.SUCCEEDED if called or step["state"] == StepState.RUNNING else StepState.SKIPPED
    return _written({**step, "state": state, "finishedAt": format_time(now), "message": message[:4096]})


def fail_step(step: Mapping[str, Any], now: datetime, message: str) -> dict[str, Any]:
    """The step failed for good."""
    return _written({**step, "state": StepState.FAILED, "finishedAt": format_time(now), "message": message[:4096]})


def rollback_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Undo of every forward step that changed something, newest first (Skipped ones changed nothing)."""
    undo = []
    for step in reversed(steps):
        ids = _ids(step)
        if ids.get("phase") == "forward" and step["state"] == "Succeeded":
            inverse = "remove" if ids["action"] == "add" else "add"
            agg = AggregateState(ids["aggregateId"], ids["aggregate"], None, frozenset())
            undo.append(_step(inverse, agg, ids["host"], True))
    return undo


def progress(steps: Sequence[Mapping[str, Any]], on_failure: str) -> Progress:
    """Where the migration stands, from its steps alone (so a restart derives the same answer)."""
    if not steps:
        return Progress.NOT_STARTED
    forward = [s for s in steps if _ids(s).get("phase") != "rollback"]
    undo = [s for s in steps if _ids(s).get("phase") == "rollback"]
    if not any(s["state"] == "Failed" for s in forward):
        return Progress.RUNNING if any(s["state"] in _OPEN for s in forward) else Progress.SUCCEEDED
    if on_failure != "Rollback":
        return Progress.STOPPED
    if any(s["state"] == "Failed" for s in undo):
        return Progress.ROLLBACK_FAILED
    return Progress.ROLLING_BACK if any(s["state"] in _OPEN for s in undo) else Progress.ROLLED_BACK


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff for the ``attempts``-th transient failure, capped."""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def log_entry(
    command: str, status: str, now: datetime, duration_ms: int, user: str | None, output: str
) -> dict[str, Any]:
    """One command log entry (the spot manager's shape: timestamp, command, status, duration, user)."""
    entry = CommandLogEntry(
        timestamp=now.astimezone(UTC).replace(microsecond=0),  # format_time's precision
        command=command,
        status=status,
        duration_ms=max(duration_ms, 0),
        user=user or "system",
        output=output[:2048],
    )
    return entry.to_k8s()


def append_log(log: Sequence[Mapping[str, Any]], entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The log with ``entry`` appended, keeping the newest MAX_STATUS_LIST entries."""
    return [dict(item) for item in [*log, entry]][-MAX_STATUS_LIST:]


def _failed(steps: Sequence[Mapping[str, Any]]) -> str:
    failed = [s for s in steps if s["state"] == "Failed"]
    return "; ".join(f"{s['name']}: {s.get('message', '')}" for s in failed) or "a step failed"


def progress_conditions(state: Progress, steps: Sequence[Mapping[str, Any]]) -> list[ConditionUpdate]:
    """Succeeded, RolledBack, Ready, Reconciling and Stalled for an executed migration."""
    done = sum(1 for s in steps if s["state"] in ("Succeeded", "Skipped"))
    if state in (Progress.RUNNING, Progress.ROLLING_BACK):
        verb = "rolling back" if state is Progress.ROLLING_BACK else "migrating"
        message = f"{verb}: {done}/{len(steps)} steps done"
        reason = "RollingBack" if state is Progress.ROLLING_BACK else "Migrating"
        return [
            ConditionUpdate("Ready", False, reason, message),
            ConditionUpdate("Reconciling", True, reason, message),
            ConditionUpdate("Stalled", False, reason),
        ]
    if state is Progress.SUCCEEDED:
        changed = any(s["state"] == "Succeeded" for s in steps)
        reason = "Migrated" if changed else "AlreadyInPlace"
        message = (
            "; ".join(step_command(s) for s in steps if s["state"] == "Succeeded")
            if changed
            else "the host was already in place; no call was made"
        )
        return [
            ConditionUpdate("Succeeded", True, reason, message),
            ConditionUpdate("Ready", True, reason, message),
            ConditionUpdate("Reconciling", False, reason),
            ConditionUpdate("Stalled", False, reason),
        ]
    failure = _failed(steps)
    if state is Progress.ROLLED_BACK:
        message = f"rolled back after {failure}"
        return [
            ConditionUpdate("Succeeded", False, "RolledBack", message),
            ConditionUpdate("RolledBack", True, "RolledBack", message),
            ConditionUpdate("Ready", False, "RolledBack", message),
            ConditionUpdate("Reconciling", False, "RolledBack"),
            ConditionUpdate("Stalled", False, "RolledBack"),
        ]
    reason = "RollbackFailed" if state is Progress.ROLLBACK_FAILED else "StepFailed"
    message = f"{failure}; the host is left as the steps show: fix it by hand"
    updates = [
        ConditionUpdate("Succeeded", False, reason, message),
        ConditionUpdate("Ready", False, reason, message),
        ConditionUpdate("Reconciling", False, reason),
        ConditionUpdate("Stalled", True, reason, message),
    ]
    if state is Progress.ROLLBACK_FAILED:
        updates.append(ConditionUpdate("RolledBack", False, reason, message))
    return updates
