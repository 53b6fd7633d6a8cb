"""The AggregateMigration step machine: forward steps, rollback steps, progress, command log.

Pure. Steps are :class:`daytwo.crds.base.Step` models (``status.steps`` as the handler parses it);
``externalIds`` carries what a restarted operator needs (:class:`StepIds`): action, aggregate name and
id, host, and whether the step belongs to the rollback. The handler marks a step Running *before* it
calls Nova and checks membership first, so a step interrupted by a crash is finished exactly once:
if the host is already where the step puts it, the step succeeds without a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from daytwo.crds.aggregatemigration import CommandLogEntry
from daytwo.crds.base import MAX_STATUS_LIST, Step, StepState

from ..conditions import ConditionUpdate
from .plan import AggregateState, command_text

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BACKOFF_SECONDS",
    "Progress",
    "StepIds",
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
    "retrying_step",
    "rollback_steps",
    "start_step",
    "step_command",
]

#: A step that keeps failing transiently is given up after this many attempts.
MAX_ATTEMPTS = 5
#: Longest wait between retries of a transient failure.
MAX_BACKOFF_SECONDS = 300.0
_OPEN = (StepState.PENDING, StepState.RUNNING)
_MESSAGE_LIMIT = 4096


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


@dataclass(frozen=True)
class StepIds:
    """What a migration step's ``externalIds`` carry."""

    action: str  # add | remove
    aggregate: str
    aggregate_id: str
    host: str
    phase: str  # forward | rollback

    @classmethod
    def of(cls, step: Step) -> StepIds:
        """The ids of ``step`` (as written by :func:`forward_steps` / :func:`rollback_steps`)."""
        ids = step.external_ids or {}
        return cls(ids["action"], ids["aggregate"], ids["aggregateId"], ids["host"], ids.get("phase", "forward"))

    def external_ids(self) -> dict[str, str]:
        """The ``externalIds`` map."""
        return {
            "action": self.action,
            "aggregate": self.aggregate,
            "aggregateId": self.aggregate_id,
            "host": self.host,
            "phase": self.phase,
        }


def _step(action: str, aggregate: AggregateState, host: str, rollback: bool) -> Step:
    prefix = "rollback/" if rollback else ""
    ids = StepIds(action, aggregate.name, aggregate.id, host, "rollback" if rollback else "forward")
    return Step(
        name=f"{prefix}{action}-host/{aggregate.name}", state=StepState.PENDING, external_ids=ids.external_ids()
    )


def _phase(step: Step) -> str | None:
    return (step.external_ids or {}).get("phase")


def _second(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(microsecond=0)  # status times are written at second precision


def forward_steps(host: str, add_to: Sequence[AggregateState], remove_from: Sequence[AggregateState]) -> list[Step]:
    """Every add, then every remove: the host is never left in no aggregate."""
    return [_step("add", agg, host, False) for agg in add_to] + [
        _step("remove", agg, host, False) for agg in remove_from
    ]


def step_command(step: Step) -> str:
    """The equivalent openstack CLI command of a step."""
    ids = StepIds.of(step)
    return command_text(ids.action, ids.aggregate, ids.host)


def is_done(step: Step, members: frozenset[str]) -> bool:
    """Whether the host already is where the step puts it (in the aggregate for add, out for remove)."""
    ids = StepIds.of(step)
    return (ids.host in members) == (ids.action == "add")


def next_step(steps: Sequence[Step]) -> int | None:
    """Index of the first Pending or Running step, unless a failure stops the forward steps."""
    for index, step in enumerate(steps):
        if step.state == StepState.FAILED:
            if _phase(step) == "rollback":
                return None
            rest = [i for i, later in enumerate(steps) if i > index and _phase(later) == "rollback"]
            return next((i for i in rest if steps[i].state in _OPEN), None)
        if step.state in _OPEN:
            return index
    return None


def start_step(step: Step, now: datetime) -> Step:
    """The step as recorded before its call: Running, one more attempt."""
    return step.model_copy(
        update={
            "state": StepState.RUNNING,
            "attempts": step.attempts + 1,
            "started_at": step.started_at or _second(now),
        }
    )


def finish_step(step: Step, now: datetime, *, called: bool, message: str) -> Step:
    """The step done: Succeeded when this migration changed the membership, Skipped when it already held."""
    state = StepState.SUCCEEDED if called or step.state == StepState.RUNNING else StepState.SKIPPED
    return step.model_copy(update={"state": state, "finished_at": _second(now), "message": message[:_MESSAGE_LIMIT]})


def fail_step(step: Step, now: datetime, message: str) -> Step:
    """The step failed for good."""
    return step.model_copy(
        update={"state": StepState.FAILED, "finished_at": _second(now), "message": message[:_MESSAGE_LIMIT]}
    )


def retrying_step(step: Step, message: str) -> Step:
    """The step still open, saying why it is retried."""
    return step.model_copy(update={"message": message[:_MESSAGE_LIMIT]})


def rollback_steps(steps: Sequence[Step]) -> list[Step]:
    """Undo of every forward step that changed something, newest first (Skipped ones changed nothing)."""
    undo = []
    for step in reversed(steps):
        if _phase(step) == "forward" and step.state == StepState.SUCCEEDED:
            ids = StepIds.of(step)
            inverse = "remove" if ids.action == "add" else "add"
            agg = AggregateState(ids.aggregate_id, ids.aggregate, None, frozenset())
            undo.append(_step(inverse, agg, ids.host, True))
    return undo


def progress(steps: Sequence[Step], on_failure: str) -> Progress:
    """Where the migration stands, from its steps alone (so a restart derives the same answer)."""
    if not steps:
        return Progress.NOT_STARTED
    forward = [s for s in steps if _phase(s) != "rollback"]
    undo = [s for s in steps if _phase(s) == "rollback"]
    if not any(s.state == StepState.FAILED for s in forward):
        return Progress.RUNNING if any(s.state in _OPEN for s in forward) else Progress.SUCCEEDED
    if on_failure != "Rollback":
        return Progress.STOPPED
    if any(s.state == StepState.FAILED for s in undo):
        return Progress.ROLLBACK_FAILED
    return Progress.ROLLING_BACK if any(s.state in _OPEN for s in undo) else Progress.ROLLED_BACK


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff for the ``attempts``-th transient failure, capped."""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def log_entry(
    command: str, status: str, now: datetime, duration_ms: int, user: str | None, output: str
) -> CommandLogEntry:
    """One command log entry (the spot manager's shape: timestamp, command, status, duration, user)."""
    return CommandLogEntry(
        timestamp=_second(now),
        command=command,
        status=status,
        duration_ms=max(duration_ms, 0),
        user=user or "system",
        output=output[:2048],
    )


def append_log(log: Sequence[CommandLogEntry], entry: CommandLogEntry) -> list[CommandLogEntry]:
    """The log with ``entry`` appended, keeping the newest MAX_STATUS_LIST entries."""
    return [*log, entry][-MAX_STATUS_LIST:]


def _failed(steps: Sequence[Step]) -> str:
    failed = [s for s in steps if s.state == StepState.FAILED]
    return "; ".join(f"{s.name}: {s.message or ''}" for s in failed) or "a step failed"


def progress_conditions(state: Progress, steps: Sequence[Step]) -> list[ConditionUpdate]:
    """Succeeded, RolledBack, Ready, Reconciling and Stalled for an executed migration."""
    done = sum(1 for s in steps if s.state in (StepState.SUCCEEDED, StepState.SKIPPED))
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
        changed = any(s.state == StepState.SUCCEEDED for s in steps)
        reason = "Migrated" if changed else "AlreadyInPlace"
        message = (
            "; ".join(step_command(s) for s in steps if s.state == StepState.SUCCEEDED)
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
